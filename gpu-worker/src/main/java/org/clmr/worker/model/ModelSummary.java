package org.clmr.worker.model;

import org.clmr.protocol.run.ModelSpec;

import java.util.ArrayList;
import java.util.List;

/** The layer table of a model shape (what {@code clmr model} prints), computed from the spec alone. */
public final class ModelSummary {
    private ModelSummary() {
    }

    /**
     * One row.
     *
     * @param name       reference module name
     * @param layer      what it is
     * @param outShape   output shape per waveform, e.g. {@code [128, 19683]}
     * @param parameters trainable parameters
     */
    public record Row(String name, String layer, String outShape, long parameters) {
    }

    /** Rows for every segment and the two head layers. */
    public static List<Row> rows(ModelSpec spec) {
        spec.validated();
        List<Row> rows = new ArrayList<>();
        List<Integer> widths = spec.blockChannels();
        long length = spec.inputLength();
        int in = 1;
        for (int i = 0; i <= widths.size() + 1; i++) {
            boolean stem = i == 0;
            boolean last = i == widths.size() + 1;
            int out = stem ? spec.stemChannels() : last ? in : widths.get(i - 1);
            length = stem ? length / 3 : last ? length : length / 3;
            String what = "conv1d(" + in + "->" + out + ", k3" + (stem ? ", s3" : ", pad1") + ") + BN + ReLU"
                    + (stem || last ? "" : " + maxpool3");
            long params = (long) out * in * 3 + out + 2L * out;
            rows.add(new Row("sequential." + i, what, "[" + out + ", " + length + "]", params));
            in = out;
        }
        int d = spec.encoderDim();
        rows.add(new Row("projector.0", "linear(" + d + "->" + d + ", no bias) + ReLU", "[" + d + "]", (long) d * d));
        rows.add(new Row("projector.2", "linear(" + d + "->" + spec.projectionDim() + ", no bias)",
                "[" + spec.projectionDim() + "]", (long) d * spec.projectionDim()));
        return rows;
    }

    /** Trainable parameters of the encoder rows. */
    public static long encoderParameters(ModelSpec spec) {
        return rows(spec).stream().filter(r -> r.name().startsWith("sequential.")).mapToLong(Row::parameters).sum();
    }

    /** Trainable parameters of the head rows. */
    public static long headParameters(ModelSpec spec) {
        return rows(spec).stream().filter(r -> r.name().startsWith("projector.")).mapToLong(Row::parameters).sum();
    }
}
