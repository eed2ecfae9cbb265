package org.clmr.eval.metrics;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClipTableTest {

    @Test
    void shouldAlignRowsAndColumnsGivenInAnotherOrder() {
        ClipTable labels = ClipTable.parse("L", List.of("id,a,\"b, c\"", "x,1,0", "y,0,1"));
        ClipTable scores = ClipTable.parse("S", List.of("clip,\"b, c\",a", "y,0.9,0.2", "x,0.1,0.8"));
        double[][] aligned = scores.alignedTo(labels);
        assertArrayEquals(new double[] {0.8, 0.1}, aligned[0]);
        assertArrayEquals(new double[] {0.2, 0.9}, aligned[1]);
        assertEquals(List.of("a", "b, c"), labels.tags());
    }

    @Test
    void shouldNameTheMissingClipInOneLine() {
        ClipTable labels = ClipTable.parse("L.csv", List.of("id,a", "x,1", "y,0", "z,1"));
        ClipTable scores = ClipTable.parse("S.csv", List.of("id,a", "x,0.3", "y,0.1"));
        UserError e = assertThrows(UserError.class, () -> scores.alignedTo(labels));
        assertTrue(e.getMessage().contains("only in L.csv: 1 (z)"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void shouldNameTheMismatchedTag() {
        ClipTable labels = ClipTable.parse("L.csv", List.of("id,a,b", "x,1,0"));
        ClipTable scores = ClipTable.parse("S.csv", List.of("id,a,c", "x,0.3,0.2"));
        UserError e = assertThrows(UserError.class, () -> scores.alignedTo(labels));
        assertTrue(e.getMessage().startsWith("tags differ"), e.getMessage());
        assertTrue(e.getMessage().contains("only in S.csv: 1 (c)"), e.getMessage());
    }

    @Test
    void shouldRejectALabelThatIsNotZeroOrOneAndARowOfTheWrongWidth() {
        UserError label = assertThrows(UserError.class,
                () -> ClipTable.parse("L.csv", List.of("id,a", "x,0.5")).asLabels());
        assertTrue(label.getMessage().contains("not 0 or 1"), label.getMessage());
        UserError width = assertThrows(UserError.class, () -> ClipTable.parse("L.csv", List.of("id,a,b", "x,1")));
        assertTrue(width.getMessage().startsWith("L.csv:2: 2 columns; expected 3"), width.getMessage());
    }
}
