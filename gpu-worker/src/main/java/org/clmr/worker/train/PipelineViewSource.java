package org.clmr.worker.train;

import org.clmr.data.DataSettings;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.pipeline.Batch;
import org.clmr.data.pipeline.BatchPipeline;
import org.clmr.data.pipeline.BatchRequest;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.step.ViewPairs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Batches from a packed dataset through the data module's {@link BatchPipeline} (background assembly,
 * augmentation chain of the run, prefetch of the next steps). One process holds the whole global batch:
 * every request is rank 0's with share B. Training thread only.
 */
public final class PipelineViewSource implements ViewPairSource {
    private static final int LOOKAHEAD = 2;
    private final PackedDataset dataset;
    private final BatchPipeline pipeline;
    private final int batch;
    private final int crop;
    private final int items;

    private PipelineViewSource(PackedDataset dataset, BatchPipeline pipeline, int batch, int crop, int items) {
        this.dataset = dataset;
        this.pipeline = pipeline;
        this.batch = batch;
        this.crop = crop;
        this.items = items;
    }

    /** Opens the packed dataset in {@code dir} (its sample rate must be the run's) and starts the pipeline. */
    public static PipelineViewSource open(Path dir, RunSpec spec, DataSettings settings) {
        PackedDataset ds = PackedDataset.open(dir, spec.sampleRate());
        PretrainView view = PretrainView.of(ds, settings.concatSongs());
        BatchPipeline p = BatchPipeline.forRun(view, spec, AugmentationChain.from(spec.augment()), settings);
        return new PipelineViewSource(ds, p, spec.globalBatch(), spec.cropLength(), view.size());
    }

    @Override
    public int batchSize() {
        return batch;
    }

    @Override
    public int cropLength() {
        return crop;
    }

    @Override
    public long stepsPerEpoch() {
        return items / batch;
    }

    @Override
    public ViewPairs batch(int epoch, long step) {
        List<BatchRequest> upcoming = new ArrayList<>(LOOKAHEAD);
        int e = epoch;
        long k = step;
        for (int i = 0; i < LOOKAHEAD; i++) {
            if (++k >= stepsPerEpoch()) {
                k = 0;
                e++;
            }
            upcoming.add(request(e, k));
        }
        Batch b = pipeline.take(request(epoch, step), upcoming);
        return new ViewPairs(batch, crop, b.view0(), b.view1());
    }

    private BatchRequest request(int epoch, long step) {
        return BatchRequest.of(epoch, Math.toIntExact(step), new int[] {batch}, 0);
    }

    @Override
    public void close() {
        pipeline.close();
        dataset.close();
    }
}
