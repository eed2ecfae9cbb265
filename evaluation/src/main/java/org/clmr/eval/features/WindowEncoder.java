package org.clmr.eval.features;

/**
 * A frozen encoder seen as a function from windows of audio to feature vectors. Called from one thread.
 */
public interface WindowEncoder {
    /** Samples per window: the model's input length. */
    int inputLength();

    /** Width of a feature vector. */
    int dim();

    /**
     * Encodes {@code count} windows.
     *
     * @param windows [count, inputLength] row-major samples (may be longer than needed)
     * @return [count, dim] row-major features
     */
    float[] encode(float[] windows, int count);
}
