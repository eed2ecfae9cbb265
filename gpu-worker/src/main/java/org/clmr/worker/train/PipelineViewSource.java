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
 * augmentation chain of the run, prefetch of the next steps): the whole global batch for a single
 * process, a rank's share for a cluster worker. Training thread only.
 */
public final class PipelineViewSource implements ViewPairSource {
    private static final int LOOKAHEAD = 2;
    private final PackedDataset dataset;
    private final BatchPipeline pipeline;
    private final int batch;
    private final int crop;
    private final int items;
    private final String dataKey;

    private PipelineViewSource(PackedDataset dataset, BatchPipeline pipeline, int batch, int crop, int items,
                               String dataKey) {
        this.dataset = dataset;
        this.pipeline = pipeline;
        this.batch = batch;
        this.crop = crop;
        this.items = items;
        this.dataKey = dataKey;
    }

    /** Opens the packed dataset in {@code dir} (its sample rate must be the run's) and starts the pipeline. */
    public static PipelineViewSource open(Path dir, RunSpec spec, DataSettings settings) {
        PackedDataset ds = PackedDataset.open(dir, spec.sampleRate());
        try {
            PretrainView view = PretrainView.of(ds, settings.concatSongs());
            BatchPipeline p = BatchPipeline.forRun(view, spec, AugmentationChain.from(spec.augment()), settings);
            String key = "packed dataset " + ds.contentHash() + ", concat-songs " + settings.concatSongs();
            return new PipelineViewSource(ds, p, spec.globalBatch(), spec.cropLength(), view.size(), key);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    /** Items (tracks, or songs with concat-songs) that pre-training samples from. */
    public int items() {
        return items;
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
    public String dataKey() {
        return dataKey;
    }

    @Override
    public ViewPairs batch(int epoch, long step) {
        return slice(epoch, step, 0, batch);
    }

    /** The slice, starting the same slice of the next steps in the background. */
    @Override
    public ViewPairs slice(int epoch, long step, int offset, int count) {
        List<BatchRequest> upcoming = new ArrayList<>(LOOKAHEAD);
        int e = epoch;
        long k = step;
        for (int i = 0; i < LOOKAHEAD; i++) {
            if (++k >= stepsPerEpoch()) {
                k = 0;
                e++;
            }
            upcoming.add(new BatchRequest(e, Math.toIntExact(k), offset, count));
        }
        Batch b = pipeline.take(new BatchRequest(epoch, Math.toIntExact(step), offset, count), upcoming);
        return new ViewPairs(count, crop, b.view0(), b.view1());
    }

    @Override
    public void close() {
        pipeline.close();
        dataset.close();
    }
}
