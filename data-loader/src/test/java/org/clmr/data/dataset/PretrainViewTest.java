package org.clmr.data.dataset;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PretrainViewTest {

    private static PackedDataset songs(Path dir) {
        try (PackedDatasetWriter w = new PackedDatasetWriter(dir.resolve("ds"), 1000, List.of(), Map.of(), false)) {
            w.add("a0", "a0", PackedDatasetTest.ramp(100, 0), new int[0], Split.TRAIN, "a");
            w.add("a1", "a1", PackedDatasetTest.ramp(100, 1), new int[0], Split.TRAIN, "a");
            w.add("a2", "a2", PackedDatasetTest.ramp(100, 2), new int[0], Split.TRAIN, "a");
            w.add("b0", "b0", PackedDatasetTest.ramp(50, 3), new int[0], Split.TRAIN, "b");
            w.add("c0", "c0", PackedDatasetTest.ramp(100, 4), new int[0], Split.TEST, "c");
            w.add("c1", "c1", PackedDatasetTest.ramp(100, 5), new int[0], Split.TEST, "c");
            w.commit(Map.of());
        }
        return PackedDataset.open(dir.resolve("ds"));
    }

    @Test
    void shouldSampleOnlyTheTrainSplit(@TempDir Path dir) {
        PretrainView v = PretrainView.of(songs(dir), false);
        assertEquals(4, v.size());
        assertEquals(300, v.start(3));
        assertEquals(50, v.length(3));
        assertEquals(1, v.paddedItems(60));
    }

    @Test
    void shouldConcatenateASongsClipsIntoOneItem(@TempDir Path dir) {
        PackedDataset ds = songs(dir);
        PretrainView v = PretrainView.of(ds, true);
        assertEquals(2, v.size());
        assertEquals(300, v.length(0));
        float[] across = new float[40];
        v.readCrop(0, 80, across, 0, 40);
        float[] expected = new float[40];
        ds.readCrop(ds.track(0), 80, expected, 0, 20);
        ds.readCrop(ds.track(1), 0, expected, 20, 20);
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, across);
        assertTrue(v.describe(200).contains("2 songs") && v.describe(200).contains("1 shorter"), v.describe(200));
    }
}
