package org.clmr.worker.collective;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LocalCollectiveTest {
    @Test
    void shouldBeTheIdentityForAWorldOfOne() {
        try (LocalCollective c = new LocalCollective(0)) {
            assertEquals(1, c.worldSize());
            float[] x = {1f, 2f, 3f};
            c.allReduceSum(new OpTag(0, 0, 0), x, 1, 2);
            assertArrayEquals(new float[] {1f, 2f, 3f}, x);
            float[] g = c.allGather(new OpTag(0, 0, 1), x, new int[] {3});
            assertArrayEquals(x, g);
            assertNotSame(x, g);
            assertArrayEquals(x, c.reduceScatterSum(new OpTag(0, 0, 2), x, new int[] {3}));
            assertArrayEquals(new byte[] {4, 5}, c.broadcast(new OpTag(0, 1, 0), new byte[] {4, 5}, 0));
        }
    }

    @Test
    void shouldRefuseCountsThatDoNotMatchTheArray() {
        try (LocalCollective c = new LocalCollective(0)) {
            assertThrows(IllegalArgumentException.class, () -> c.allGather(new OpTag(0, 0, 0), new float[2], new int[] {3}));
            assertThrows(IllegalArgumentException.class, () -> c.allReduceSum(new OpTag(0, 0, 1), new float[2], 1, 2));
        }
    }
}
