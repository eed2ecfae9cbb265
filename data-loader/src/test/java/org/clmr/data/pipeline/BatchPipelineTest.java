package org.clmr.data.pipeline;

import org.clmr.data.ViewTransform;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PackedDatasetWriter;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.dataset.Split;
import org.clmr.data.random.Rng;
import org.clmr.data.sampling.EpochPlan;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class BatchPipelineTest {
    private static final int CROP = 500;
    private static final int B = 12;
    private static final long SEED = 99;

    /** A transform that draws from the view's generator: a gain and a little noise. */
    private static final ViewTransform NOISY_GAIN = (view, rate, rng) -> {
        float gain = (float) rng.uniform(0.5, 1.0);
        for (int i = 0; i < view.length; i++) {
            view[i] = view[i] * gain + (float) (0.001 * rng.nextGaussian());
        }
    };

    @TempDir
    static Path dir;
    static PretrainView view;

    @BeforeAll
    static void dataset() {
        Rng rng = new Rng(5);
        try (PackedDatasetWriter w = new PackedDatasetWriter(dir.resolve("ds"), 8000, List.of(), Map.of(), false)) {
            for (int i = 0; i < 50; i++) {
                float[] x = new float[i % 7 == 0 ? 300 : 600 + rng.nextInt(3000)];
                for (int k = 0; k < x.length; k++) {
                    x[k] = (float) rng.uniform(-0.5, 0.5);
                }
                w.add("t" + i, "t" + i, x, new int[0], i % 10 == 9 ? Split.TEST : Split.TRAIN, null);
            }
            w.commit(Map.of());
        }
        view = PretrainView.of(PackedDataset.open(dir.resolve("ds")), false);
    }

    private static BatchPipeline pipeline(int threads, int prefetch) {
        return new BatchPipeline(new ViewSampler(view, SEED, CROP, NOISY_GAIN), SEED, B, view.size(), threads, prefetch);
    }

    @Test
    void shouldGiveBitIdenticalBatchesWhateverTheThreadCountAndPrefetch() {
        List<Batch> one = new ArrayList<>();
        List<Batch> four = new ArrayList<>();
        int steps = view.size() / B;
        try (BatchPipeline a = pipeline(1, 1); BatchPipeline b = pipeline(4, 3)) {
            for (int e = 0; e < 2; e++) {
                for (int k = 0; k < steps; k++) {
                    BatchRequest r = new BatchRequest(e, k, 0, B);
                    one.add(a.take(r));
                    List<BatchRequest> next = new ArrayList<>();
                    for (int j = 1; j <= 3 && k + j < steps; j++) {
                        next.add(new BatchRequest(e, k + j, 0, B));
                    }
                    four.add(b.take(r, next));
                }
            }
        }
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i).items(), four.get(i).items());
            assertArrayEquals(one.get(i).view0(), four.get(i).view0());
            assertArrayEquals(one.get(i).view1(), four.get(i).view1());
        }
    }

    @Test
    void shouldGiveATrackTheSameViewsWhicheverRankDrawsIt() {
        try (BatchPipeline p = pipeline(2, 2)) {
            Batch whole = p.take(new BatchRequest(1, 2, 0, B));
            for (int[] shares : new int[][] {{6, 6}, {B - 5, 5}, {2, 3, 7}, {5, 2, 2, 3}}) {
                int row = 0;
                for (int r = 0; r < shares.length; r++) {
                    Batch part = p.take(BatchRequest.of(1, 2, shares, r));
                    for (int i = 0; i < part.share(); i++, row++) {
                        assertEquals(whole.items()[row], part.items()[i]);
                        assertEquals(whole.cropOffsets()[0][row], part.cropOffsets()[0][i]);
                        assertEquals(whole.cropOffsets()[1][row], part.cropOffsets()[1][i]);
                        assertArrayEquals(Arrays.copyOfRange(whole.view0(), row * CROP, (row + 1) * CROP),
                                Arrays.copyOfRange(part.view0(), i * CROP, (i + 1) * CROP));
                        assertArrayEquals(Arrays.copyOfRange(whole.view1(), row * CROP, (row + 1) * CROP),
                                Arrays.copyOfRange(part.view1(), i * CROP, (i + 1) * CROP));
                    }
                }
            }
        }
    }

    @Test
    void shouldCropTheItemsThePlanNamesAtTheDrawnOffsets() {
        ViewSampler identity = new ViewSampler(view, SEED, CROP, ViewTransform.IDENTITY);
        try (BatchPipeline p = new BatchPipeline(identity, SEED, B, view.size(), 2, 1)) {
            Batch b = p.take(new BatchRequest(0, 1, 3, 4));
            assertArrayEquals(new EpochPlan(SEED, 0, view.size(), B).slice(1, 3, 4), b.items());
            assertEquals(4 * CROP, b.view0().length);
            for (int i = 0; i < 4; i++) {
                int item = b.items()[i];
                for (int v = 0; v < 2; v++) {
                    long off = b.cropOffsets()[v][i];
                    assertEquals(identity.cropOffset(0, item, v), off);
                    assertTrue(off == 0 || off + CROP <= view.length(item));
                    float[] expected = new float[CROP];
                    view.readCrop(item, off, expected, 0, CROP);
                    assertArrayEquals(expected, Arrays.copyOfRange(b.view(v), i * CROP, (i + 1) * CROP));
                }
                assertTrue(b.cropOffsets()[0][i] != b.cropOffsets()[1][i] || view.length(item) <= CROP + 1,
                        "two views of a long item should be cropped at different places");
            }
        }
    }

    @Test
    void shouldFollowChangedSharesBetweenStepsAndDropStalePrefetches() {
        try (BatchPipeline p = pipeline(2, 2)) {
            int[] before = {8, 4};
            int[] after = {5, 3, 4};
            Batch first = p.take(BatchRequest.of(0, 0, before, 0),
                    List.of(BatchRequest.of(0, 1, before, 0), BatchRequest.of(0, 2, before, 0)));
            assertEquals(2, p.inFlight());
            Batch second = p.take(BatchRequest.of(0, 1, after, 1), List.of(BatchRequest.of(0, 2, after, 1)));
            assertEquals(1, p.inFlight(), "the prefetch for the old shares is dropped");
            EpochPlan plan = p.plan(0);
            assertArrayEquals(plan.slice(0, before, 0), first.items());
            assertArrayEquals(plan.slice(1, after, 1), second.items());
            assertTrue(p.submit(BatchRequest.of(1, 0, after, 1)));
            assertTrue(p.submit(BatchRequest.of(1, 0, after, 2)));
            assertEquals(false, p.submit(BatchRequest.of(1, 0, after, 0)), "prefetch is bounded");
        }
    }

    @Test
    void shouldFillRecycledArraysExactlyAsNewOnes() {
        try (BatchPipeline fresh = pipeline(2, 1); BatchPipeline reusing = pipeline(2, 1)) {
            for (int k = 0; k < 3; k++) {
                BatchRequest r = new BatchRequest(0, k, 0, B);
                Batch expected = fresh.take(r);
                Batch got = reusing.take(r);
                assertArrayEquals(expected.view0(), got.view0());
                assertArrayEquals(expected.view1(), got.view1());
                float[] old = got.view0();
                reusing.recycle(got);
                Arrays.fill(old, 123f);
            }
        }
    }

    @Test
    void shouldBuildARunsPipelineFromItsSpecAndSettings() {
        var config = org.clmr.protocol.config.ClmrConfig.load(null,
                List.of("run.model.preset=tiny", "run.global-batch=8", "run.seed=3", "data.pipeline.threads=3"));
        var spec = org.clmr.protocol.run.RunSpec.from(config);
        try (BatchPipeline p = BatchPipeline.forRun(view, spec, ViewTransform.IDENTITY,
                org.clmr.data.DataSettings.from(config))) {
            Batch b = p.take(new BatchRequest(0, 0, 0, 8));
            assertEquals(8 * spec.cropLength(), b.view0().length);
            assertArrayEquals(new EpochPlan(3, 0, view.size(), 8).slice(0, 0, 8), b.items());
        }
    }

    @Test
    void shouldReportTheTimeTheTrainerWaited() {
        AtomicLong heard = new AtomicLong();
        try (BatchPipeline p = pipeline(1, 1)) {
            p.onDataWait(heard::addAndGet);
            p.take(new BatchRequest(0, 0, 0, B));
            p.take(new BatchRequest(0, 1, 0, B));
            assertEquals(2, p.takes());
            assertTrue(p.waitNanos() > 0);
            assertEquals(p.waitNanos(), heard.get());
        }
    }
}
