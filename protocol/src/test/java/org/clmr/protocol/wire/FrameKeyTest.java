package org.clmr.protocol.wire;

import org.junit.jupiter.api.Test;

import java.util.Base64;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameKeyTest {
    @Test
    void shouldDrawA32ByteKeyThatDiffersEveryTime() {
        FrameKey a = FrameKey.random();
        FrameKey b = FrameKey.random();
        assertEquals(FrameKey.LENGTH, a.bytes().length);
        assertNotEquals(a, b);
        assertEquals(a, FrameKey.of(a.bytes()));
        assertTrue(a.authenticates());
        assertFalse(FrameKey.NONE.authenticates());
    }

    @Test
    void shouldNeverShowTheKey() {
        FrameKey k = FrameKey.random();
        String shown = k.toString();
        assertEquals("<redacted>", shown);
        assertFalse(shown.contains(HexFormat.of().formatHex(k.bytes())));
        assertFalse(shown.contains(Base64.getEncoder().encodeToString(k.bytes())));
        assertEquals("none", FrameKey.NONE.toString());
    }

    @Test
    void shouldRefuseAKeyOfAnyOtherLength() {
        assertThrows(IllegalArgumentException.class, () -> FrameKey.of(new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> FrameKey.of(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> FrameKey.of(null));
        byte[] mine = new byte[FrameKey.LENGTH];
        FrameKey k = FrameKey.of(mine);
        mine[0] = 1;
        assertEquals(0, k.bytes()[0], "the key is a copy");
    }
}
