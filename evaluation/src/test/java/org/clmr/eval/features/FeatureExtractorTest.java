package org.clmr.eval.features;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureExtractorTest {
    @TempDir
    Path dir;

    /** Clip c's sample s is c * 1000 + s. */
    private static final ClipAudio RAMPS = new ClipAudio() {
        private final long[] lengths = {25, 7, 16, 8};

        @Override
        public long length(int clip) {
            return lengths[clip];
        }

        @Override
        public void read(int clip, long offset, float[] dst, int dstOffset, int length) {
            for (int i = 0; i < length; i++) {
                dst[dstOffset + i] = clip * 1000 + offset + i;
            }
        }
    };

    /** Features of a window: its first sample and its last. */
    private static final WindowEncoder FIRST_AND_LAST = new WindowEncoder() {
        @Override
        public int inputLength() {
            return 8;
        }

        @Override
        public int dim() {
            return 2;
        }

        @Override
        public float[] encode(float[] windows, int count) {
            float[] out = new float[count * 2];
            for (int w = 0; w < count; w++) {
                out[2 * w] = windows[w * 8];
                out[2 * w + 1] = windows[w * 8 + 7];
            }
            return out;
        }
    };

    private static FeatureExtractor.Result extract(List<Integer> progress) {
        boolean[][] labels = {{true, false}, {false, true}, {true, true}, {false, false}};
        return FeatureExtractor.extract(List.of("a", "b", "c", "d"), List.of("x", "y"), labels, RAMPS, FIRST_AND_LAST, 3, progress::add);
    }

    @Test
    void shouldCutConsecutiveWindowsDropTheLastPartialOneAndSkipShortClips() {
        List<Integer> progress = new ArrayList<>();
        FeatureExtractor.Result r = extract(progress);
        FeatureSet f = r.features();
        assertEquals(List.of("b"), r.tooShort());
        assertEquals(List.of("a", "c", "d"), f.ids());
        assertEquals(3, f.windowCount(0), "25 samples hold 3 windows of 8");
        assertEquals(2, f.windowCount(1));
        assertEquals(1, f.windowCount(2));
        assertArrayEquals(new float[] {0, 7, 8, 15, 16, 23, 2000, 2007, 2008, 2015, 3000, 3007}, f.matrix());
        assertArrayEquals(new boolean[] {true, true}, f.labels()[1]);
        assertEquals(List.of(3, 3), progress, "batches of 3 windows span clips");
        assertArrayEquals(new float[] {8, 15}, f.meanFeature(0));
    }

    @Test
    void shouldRoundTripThroughTheCacheOnlyForTheSameKey() throws Exception {
        FeatureSet f = extract(new ArrayList<>()).features();
        FeatureCache cache = new FeatureCache(dir.resolve("features"));
        cache.store("test", "key-1", f);
        FeatureSet back = cache.load("test", "key-1").orElseThrow();
        assertEquals(f.ids(), back.ids());
        assertArrayEquals(f.matrix(), back.matrix());
        assertEquals(f.windowCount(0), back.windowCount(0));
        assertArrayEquals(f.labels()[1], back.labels()[1]);
        assertTrue(cache.load("test", "key-2").isEmpty());
        assertTrue(cache.load("train", "key-1").isEmpty());
    }

    @Test
    void shouldWriteOneMeanEmbeddingPerClipAsNpyWithIdsAndAsCsv() throws Exception {
        FeatureSet f = extract(new ArrayList<>()).features();
        Path npy = dir.resolve("emb.npy");
        EmbeddingWriter.write(npy, f);
        Npy.Matrix m = Npy.read(npy);
        assertEquals(3, m.rows());
        assertArrayEquals(new float[] {8, 15, 2004, 2011, 3000, 3007}, m.data());
        assertEquals(List.of("a", "c", "d"), Files.readAllLines(dir.resolve("emb.ids.txt")));
        Path csv = dir.resolve("emb.csv");
        EmbeddingWriter.write(csv, f);
        assertEquals(List.of("track_id,h0,h1", "a,8.0,15.0", "c,2004.0,2011.0", "d,3000.0,3007.0"), Files.readAllLines(csv));
    }
}
