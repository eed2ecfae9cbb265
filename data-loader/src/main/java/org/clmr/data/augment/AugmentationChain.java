package org.clmr.data.augment;

import org.clmr.data.ViewTransform;
import org.clmr.data.random.Rng;
import org.clmr.protocol.run.AugmentSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Augmentations 2-8 of the paper applied to one cropped view, in order: polarity, noise, gain, filter, delay,
 * pitch, reverb (the crop, augmentation 1, is the pipeline's, drawn from the same generator before).
 *
 * <p>Draw order, the reproducibility contract: for each augmentation in chain order, one coin
 * ({@code rng.nextDouble() < probability}) and then its {@link Augmentation#draws()} parameter values, drawn
 * whether or not the coin says yes, so a view takes 1+0 + 1+2 + 1+1 + 1+2 + 1+1 + 1+1 + 1+3 = 17 values and
 * is a function of (seed, epoch, track, view) alone; fixing a parameter or forcing an augmentation on does not
 * shift any draw.
 *
 * <p>Overflow policy: after the chain, if any sample's magnitude exceeds 1 (noise, delay, reverb and positive
 * gains can push it there) the whole view is scaled by 1/peak, which keeps its waveform (no clipping
 * distortion); otherwise it is left as is. Output is finite for finite input.
 *
 * <p>Thread-safe: the chain is immutable; each thread gets its own {@link Scratch} and parameter arrays from
 * a ThreadLocal, so the hot path allocates nothing once warm (apart from two tiny arrays in pitch and reverb).
 */
public final class AugmentationChain implements ViewTransform {

    /** Receives each augmentation that was applied to a view with its parameters (for {@code clmr augment}). */
    @FunctionalInterface
    public interface Trace {
        /** {@code params} is only valid during the call. */
        void applied(Augmentation augmentation, double[] params);
    }

    /** The names of the augmentations, in chain order. */
    public static final List<String> NAMES = List.of("polarity", "noise", "gain", "filter", "delay", "pitch", "reverb");

    private final List<Augmentation> augmentations;
    private final double[] probabilities;
    private final boolean[] forced;
    private final double[][] fixed;
    private final ThreadLocal<State> state;

    private static final class State {
        final Scratch scratch = new Scratch();
        final double[][] params;

        State(List<Augmentation> augmentations) {
            params = new double[augmentations.size()][];
            for (int i = 0; i < params.length; i++) {
                params[i] = new double[augmentations.get(i).parameters().size()];
            }
        }
    }

    private AugmentationChain(List<Augmentation> augmentations, double[] probabilities, boolean[] forced,
                              double[][] fixed) {
        this.augmentations = List.copyOf(augmentations);
        this.probabilities = probabilities;
        this.forced = forced;
        this.fixed = fixed;
        this.state = ThreadLocal.withInitial(() -> new State(this.augmentations));
    }

    /** The chain with {@code spec}'s ranges and probabilities. */
    public static AugmentationChain from(AugmentSpec spec) {
        List<Augmentation> augs = List.of(
                new Polarity(),
                new Noise(spec.noise().minSnrDb(), spec.noise().maxSnrDb()),
                new Gain(spec.gain().minDb(), spec.gain().maxDb()),
                new Filter(spec.filter().lowPassMinHz(), spec.filter().lowPassMaxHz(),
                        spec.filter().highPassMinHz(), spec.filter().highPassMaxHz()),
                new Delay(spec.delay().minMs(), spec.delay().maxMs(), spec.delay().stepMs(), spec.delay().volume()),
                new PitchShift(spec.pitch().minSemitones(), spec.pitch().maxSemitones()),
                new Reverb(spec.reverb().reverberanceMin(), spec.reverb().reverberanceMax(),
                        spec.reverb().dampingMin(), spec.reverb().dampingMax(),
                        spec.reverb().roomSizeMin(), spec.reverb().roomSizeMax()));
        double[] p = {spec.polarity().probability(), spec.noise().probability(), spec.gain().probability(),
                spec.filter().probability(), spec.delay().probability(), spec.pitch().probability(),
                spec.reverb().probability()};
        double[][] fixed = new double[augs.size()][];
        for (int i = 0; i < fixed.length; i++) {
            fixed[i] = new double[augs.get(i).parameters().size()];
            Arrays.fill(fixed[i], Double.NaN);
        }
        return new AugmentationChain(augs, p, new boolean[augs.size()], fixed);
    }

    /** The augmentations, in chain order. */
    public List<Augmentation> augmentations() {
        return augmentations;
    }

    /** The configured probability of the augmentation at {@code index}. */
    public double probability(int index) {
        return probabilities[index];
    }

    /** The augmentation called {@code name}. @throws IllegalArgumentException listing the names */
    public Augmentation augmentation(String name) {
        return augmentations.get(indexOf(name));
    }

    private int indexOf(String name) {
        for (int i = 0; i < augmentations.size(); i++) {
            if (augmentations.get(i).name().equals(name)) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown augmentation '" + name + "'; expected one of " + names());
    }

    private String names() {
        List<String> names = new ArrayList<>();
        for (Augmentation a : augmentations) {
            names.add(a.name());
        }
        return String.join(", ", names);
    }

    /**
     * A chain that applies only {@code only} (each always; all at their probabilities if {@code only} is
     * empty) with the parameters in {@code sets} ({@code "pitch.semitones" -> "3"}) fixed; an augmentation
     * with a fixed parameter is always applied. Draws are unchanged.
     *
     * @throws IllegalArgumentException naming the unknown augmentation or parameter, or the bad value
     */
    public AugmentationChain restrictedTo(Collection<String> only, Map<String, String> sets) {
        int count = augmentations.size();
        double[] p = probabilities.clone();
        boolean[] force = forced.clone();
        double[][] fix = new double[count][];
        for (int i = 0; i < count; i++) {
            fix[i] = fixed[i].clone();
        }
        if (!only.isEmpty()) {
            Arrays.fill(p, 0);
            for (String name : only) {
                force[indexOf(name.trim())] = true;
            }
        }
        for (Map.Entry<String, String> e : sets.entrySet()) {
            String key = e.getKey();
            int dot = key.indexOf('.');
            if (dot < 0) {
                throw new IllegalArgumentException("'" + key + "' is not of the form augmentation.parameter");
            }
            int a = indexOf(key.substring(0, dot));
            List<Parameter> params = augmentations.get(a).parameters();
            String pname = key.substring(dot + 1);
            int k = -1;
            for (int j = 0; j < params.size(); j++) {
                if (params.get(j).name().equals(pname)) {
                    k = j;
                }
            }
            if (k < 0) {
                List<String> known = new ArrayList<>();
                params.forEach(q -> known.add(q.name()));
                throw new IllegalArgumentException(augmentations.get(a).name() + " has no parameter '" + pname
                        + "'; it has " + (known.isEmpty() ? "none" : String.join(", ", known)));
            }
            fix[a][k] = params.get(k).parse(e.getValue());
            force[a] = true;
        }
        return new AugmentationChain(augmentations, p, force, fix);
    }

    @Override
    public void apply(float[] view, int sampleRate, Rng rng) {
        apply(view, sampleRate, rng, null);
    }

    /** As {@link #apply(float[], int, Rng)}, telling {@code trace} (may be null) what was applied. */
    public void apply(float[] view, int sampleRate, Rng rng, Trace trace) {
        State s = state.get();
        for (int i = 0; i < augmentations.size(); i++) {
            Augmentation a = augmentations.get(i);
            boolean on = rng.nextDouble() < probabilities[i] | forced[i];
            a.draw(rng, s.params[i], fixed[i]);
            if (on) {
                a.apply(view, sampleRate, s.params[i], s.scratch);
                if (trace != null) {
                    trace.applied(a, s.params[i]);
                }
            }
        }
        limit(view);
    }

    /** The overflow policy: scales {@code x} by 1/peak if its peak magnitude exceeds 1. */
    public static void limit(float[] x) {
        float peak = 0;
        for (float v : x) {
            peak = Math.max(peak, Math.abs(v));
        }
        if (peak > 1f) {
            // Division, not multiplication by 1/peak, so that no result rounds above 1.
            for (int i = 0; i < x.length; i++) {
                x[i] /= peak;
            }
        }
    }
}
