package org.clmr.protocol.run;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SharesTest {
    @Test
    void shouldPlaceEachRankAfterTheRanksBeforeIt() {
        int[] shares = {5, 2, 9};
        assertEquals(0, Shares.offset(shares, 0));
        assertEquals(5, Shares.offset(shares, 1));
        assertEquals(7, Shares.offset(shares, 2));
        assertEquals(16, Shares.total(shares));
        assertEquals(7, Shares.check(shares, 3, 2, 2));
    }

    @Test
    void shouldRefuseASplitThatDoesNotFitTheWorld() {
        assertThrows(IllegalArgumentException.class, () -> Shares.check(new int[] {4, 4}, 3, 0, 1));
        IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
                () -> Shares.check(new int[] {4, 1}, 2, 0, 2));
        assertTrue(small.getMessage().contains("share of rank 1 is 1, must be >= 2"), small.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Shares.offset(new int[] {1}, 2));
        assertThrows(ArithmeticException.class, () -> Shares.total(new int[] {Integer.MAX_VALUE, 1}));
    }
}
