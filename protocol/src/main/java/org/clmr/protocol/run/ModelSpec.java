package org.clmr.protocol.run;

import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;

import java.util.List;

/**
 * The shape of the SampleCNN encoder and its projection head.
 *
 * <p>The encoder is a stem conv(1 -> stem, k3, s3) + BN + ReLU, then one block per entry of
 * {@code blockChannels}: conv(k3, s1, pad1) + BN + ReLU + maxpool(3), then conv(last -> last, k3, pad1)
 * + BN + ReLU, so the input length must be 3^(blocks + 1) for the time axis to end at 1. The projection
 * head is z = W2 ReLU(W1 h) with h and the hidden layer of width {@link #encoderDim()}, no biases.
 *
 * @param preset        the preset's name ({@code paper}, {@code small}, {@code tiny})
 * @param inputLength   samples per crop
 * @param stemChannels  output channels of the stride-3 stem conv
 * @param blockChannels output channels of each pooled block
 * @param projectionDim width of z
 */
public record ModelSpec(String preset, int inputLength, int stemChannels, List<Integer> blockChannels,
                        int projectionDim) {

    /** The presets by name, in the order {@code clmr model --help} lists them. */
    public static final List<String> PRESETS = List.of("paper", "small", "tiny");

    public ModelSpec {
        blockChannels = List.copyOf(blockChannels);
    }

    /** The paper's SampleCNN: 59049 samples, 2,368,512 encoder parameters. */
    public static ModelSpec paper(int projectionDim) {
        return new ModelSpec("paper", 59049, 128, List.of(128, 128, 256, 256, 256, 256, 256, 256, 512), projectionDim);
    }

    /** A shape with the paper's structure, by name. */
    public static ModelSpec preset(String name, int projectionDim) {
        switch (name) {
            case "paper":
                return paper(projectionDim);
            case "small":
                // 3^9 samples (0.9 s at 22050 Hz), a quarter of the paper's widths
                return new ModelSpec("small", 19683, 32, List.of(32, 32, 64, 64, 64, 64, 64, 128), projectionDim);
            case "tiny":
                // 3^7 samples: trains in seconds on a CPU, for tests and the demo
                return new ModelSpec("tiny", 2187, 16, List.of(16, 16, 32, 32, 32, 64), projectionDim);
            default:
                throw new SettingsException("clmr.run.model.preset", name, "must be one of " + String.join(", ", PRESETS));
        }
    }

    /** Width of the encoder's output h (the features used for evaluation). */
    public int encoderDim() {
        return blockChannels.get(blockChannels.size() - 1);
    }

    /** Reads {@code clmr.run.model}. */
    public static ModelSpec from(ConfigReader model) {
        String preset = model.getEnum("preset", PRESETS);
        int projection = model.getInt("projection-dim", 1, 65536);
        return preset(preset, projection);
    }

    /**
     * Channel widths must be multiples of this. On CPU, libtorch 2.5.1 (and 2.7.1) runs conv1d through
     * oneDNN, whose AVX-512 backward-data kernel reads the padding of a channel block that is only partly
     * filled: with other widths the input gradient comes out NaN now and then (a [3, 4, 27] input into 8
     * output channels: 8-13 of 3000 backward passes on the development VM; 16 channels: 0 of 3000).
     */
    public static final int CHANNEL_MULTIPLE = 16;

    /**
     * Checks that the length works with the strides and the widths with the CPU kernels; called by every
     * constructor path that users reach.
     */
    public ModelSpec validated() {
        List<Integer> widths = new java.util.ArrayList<>(blockChannels);
        widths.add(0, stemChannels);
        for (int w : widths) {
            if (w < 1 || w % CHANNEL_MULTIPLE != 0) {
                throw new SettingsException("clmr.run.model", "channel width " + w + " of " + preset + " is not a "
                        + "multiple of " + CHANNEL_MULTIPLE + " (libtorch's CPU convolution backward returns NaN for "
                        + "such widths); round the widths " + widths + " up to multiples of " + CHANNEL_MULTIPLE);
            }
        }
        long expected = 3;
        for (int i = 0; i < blockChannels.size(); i++) {
            expected *= 3;
        }
        if (expected != inputLength) {
            throw new SettingsException("clmr.run.model", "input length " + inputLength + " does not fit "
                    + blockChannels.size() + " blocks of stride 3 after a stride-3 stem; it must be " + expected);
        }
        return this;
    }
}
