package org.clmr.protocol.run;

import org.clmr.protocol.Sha256;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.typesafe.config.Config;
import org.clmr.protocol.CborSerializable;
import org.clmr.protocol.config.ConfigReader;


/**
 * The immutable description of a training run: everything that decides what a step computes. Its
 * {@link #hash()} is stable across JVMs and runs and goes into every checkpoint; defaults (from
 * {@code clmr.run} in reference.conf) are the paper's.
 *
 * @param model       encoder and projection shape
 * @param sampleRate  Hz of the dataset and the model input
 * @param globalBatch tracks per step over all workers (each contributes two views)
 * @param epochs      epochs to train
 * @param seed        seeds sampling, augmentation and initialisation
 * @param temperature NT-Xent's tau
 * @param optimizer   Adam's hyper-parameters
 * @param augment     every augmentation's probability and range
 * @param checkpoint  checkpoint cadence and retention
 */
public record RunSpec(ModelSpec model, int sampleRate, int globalBatch, int epochs, long seed, double temperature,
                      OptimizerSpec optimizer, AugmentSpec augment, CheckpointPolicy checkpoint)
        implements CborSerializable {

    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .setVisibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
            .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
            .configure(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY, true)
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    /** Samples per view: the model's input length. */
    public int cropLength() {
        return model.inputLength();
    }

    /** Reads and validates {@code clmr.run} from a resolved configuration. */
    public static RunSpec from(Config resolved) {
        ConfigReader r = new ConfigReader(resolved, "").at("clmr").at("run");
        return new RunSpec(
                ModelSpec.from(r.at("model")).validated(),
                r.getInt("sample-rate", 1000, 384_000),
                r.getInt("global-batch", 2, 1_000_000),
                r.getInt("epochs", 1, Integer.MAX_VALUE),
                r.getLong("seed", Long.MIN_VALUE, Long.MAX_VALUE),
                r.getDouble("temperature", 1e-6, 1e6),
                OptimizerSpec.from(r.at("optimizer")),
                AugmentSpec.from(r.at("augment")),
                CheckpointPolicy.from(r.at("checkpoint")));
    }

    /** The canonical JSON form (properties sorted), the input of {@link #hash()}. */
    public String canonicalJson() {
        try {
            return CANONICAL.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("RunSpec is not serializable", e);
        }
    }

    /** SHA-256 (hex) of {@link #canonicalJson()}: same values, same hash, on any JVM. */
    public String hash() {
        return Sha256.hex(canonicalJson());
    }
}
