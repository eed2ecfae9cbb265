package org.clmr.protocol.run;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;

/**
 * Every augmentation's probability and range, applied in this order to each view independently
 * (defaults from the paper and the reference implementation's config).
 */
public record AugmentSpec(Crop crop, Polarity polarity, Noise noise, Gain gain, Filter filter, Delay delay,
                          Pitch pitch, Reverb reverb) {

    /** Random crop of the model's input length anywhere in the track. */
    public record Crop(double probability) {
        @JsonCreator
        public Crop(@JsonProperty("probability") double probability) {
            this.probability = probability;
        }
    }

    /** x -> -x. */
    public record Polarity(double probability) {
        @JsonCreator
        public Polarity(@JsonProperty("probability") double probability) {
            this.probability = probability;
        }
    }

    /** White Gaussian noise at a signal-to-noise ratio relative to the crop's power. */
    public record Noise(double probability, double minSnrDb, double maxSnrDb) {
    }

    /** Gain uniform in [minDb, maxDb]. */
    public record Gain(double probability, double minDb, double maxDb) {
    }

    /** Coin flip between a low-pass (cut-off uniform in its range) and a high-pass. */
    public record Filter(double probability, double lowPassMinHz, double lowPassMaxHz, double highPassMinHz,
                         double highPassMaxHz) {
    }

    /** A delayed copy mixed in: d in {min, min+step, ..., max} ms; out = (x + volume * x(t - d)) / 2. */
    public record Delay(double probability, int minMs, int maxMs, int stepMs, double volume) {
    }

    /** Pitch shift uniform in [min, max] semitones, length unchanged. */
    public record Pitch(double probability, double minSemitones, double maxSemitones) {
    }

    /** Freeverb/Schroeder reverb; each parameter uniform on its range (0-100 as SoX). */
    public record Reverb(double probability, double reverberanceMin, double reverberanceMax, double dampingMin,
                         double dampingMax, double roomSizeMin, double roomSizeMax) {
    }

    /** Reads {@code clmr.run.augment}. */
    public static AugmentSpec from(ConfigReader r) {
        ConfigReader c = r.at("crop");
        ConfigReader p = r.at("polarity");
        ConfigReader n = r.at("noise");
        ConfigReader g = r.at("gain");
        ConfigReader f = r.at("filter");
        ConfigReader d = r.at("delay");
        ConfigReader ps = r.at("pitch");
        ConfigReader rv = r.at("reverb");
        AugmentSpec spec = new AugmentSpec(
                new Crop(c.getProbability("probability")),
                new Polarity(p.getProbability("probability")),
                new Noise(n.getProbability("probability"), n.getDouble("min-snr-db", -20, 200), n.getDouble("max-snr-db", -20, 200)),
                new Gain(g.getProbability("probability"), g.getDouble("min-db", -120, 40), g.getDouble("max-db", -120, 40)),
                new Filter(f.getProbability("probability"),
                        f.getDouble("low-pass-min-hz", 1, 100_000), f.getDouble("low-pass-max-hz", 1, 100_000),
                        f.getDouble("high-pass-min-hz", 1, 100_000), f.getDouble("high-pass-max-hz", 1, 100_000)),
                new Delay(d.getProbability("probability"), d.getInt("min-ms", 1, 10_000), d.getInt("max-ms", 1, 10_000),
                        d.getInt("step-ms", 1, 10_000), d.getDouble("volume", 0, 1)),
                new Pitch(ps.getProbability("probability"), ps.getDouble("min-semitones", -24, 24),
                        ps.getDouble("max-semitones", -24, 24)),
                new Reverb(rv.getProbability("probability"),
                        rv.getDouble("reverberance-min", 0, 100), rv.getDouble("reverberance-max", 0, 100),
                        rv.getDouble("damping-min", 0, 100), rv.getDouble("damping-max", 0, 100),
                        rv.getDouble("room-size-min", 0, 100), rv.getDouble("room-size-max", 0, 100)));
        ordered(n.key("min-snr-db"), spec.noise.minSnrDb, spec.noise.maxSnrDb);
        ordered(g.key("min-db"), spec.gain.minDb, spec.gain.maxDb);
        ordered(f.key("low-pass-min-hz"), spec.filter.lowPassMinHz, spec.filter.lowPassMaxHz);
        ordered(f.key("high-pass-min-hz"), spec.filter.highPassMinHz, spec.filter.highPassMaxHz);
        ordered(d.key("min-ms"), spec.delay.minMs, spec.delay.maxMs);
        ordered(ps.key("min-semitones"), spec.pitch.minSemitones, spec.pitch.maxSemitones);
        ordered(rv.key("reverberance-min"), spec.reverb.reverberanceMin, spec.reverb.reverberanceMax);
        ordered(rv.key("damping-min"), spec.reverb.dampingMin, spec.reverb.dampingMax);
        ordered(rv.key("room-size-min"), spec.reverb.roomSizeMin, spec.reverb.roomSizeMax);
        return spec;
    }

    private static void ordered(String minKey, double min, double max) {
        if (min > max) {
            throw new SettingsException(minKey, min, "must not exceed its maximum " + max);
        }
    }
}
