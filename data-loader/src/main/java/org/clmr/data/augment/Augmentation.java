package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/**
 * One audio augmentation of the chain: its parameters are drawn from the view's {@link Rng} by {@link #draw},
 * then {@link #apply} transforms a view in place. Implementations are immutable (their ranges only) and
 * thread-safe; per-call memory comes from the caller's {@link Scratch}.
 *
 * <p>Reproducibility contract: {@code draw} consumes exactly {@link #draws()} values from the generator
 * whatever the values drawn and whichever parameters are fixed, so the draws of later augmentations never
 * shift. The chain draws each augmentation's coin (one value) before its parameters, and draws the parameters
 * even when the coin says no.
 */
public interface Augmentation {

    /** The short name used by {@code --only} and {@code --set name.param=value}. */
    String name();

    /** One line on what it does. */
    String description();

    /** Its parameters, in the order of the {@code double[]} that {@link #draw} fills. */
    List<Parameter> parameters();

    /** How many values {@link #draw} takes from the generator (always the same). */
    int draws();

    /**
     * Draws the parameters into {@code out}.
     *
     * @param rng   the view's generator; exactly {@link #draws()} values are taken
     * @param out   receives one value per parameter
     * @param fixed per parameter a fixed value, or NaN to use the drawn one
     */
    void draw(Rng rng, double[] out, double[] fixed);

    /** Applies the augmentation with parameters {@code p} (as {@link #draw} fills them) to {@code x} in place. */
    void apply(float[] x, int sampleRate, double[] p, Scratch scratch);
}
