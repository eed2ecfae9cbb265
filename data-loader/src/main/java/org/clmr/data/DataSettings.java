package org.clmr.data;

import com.typesafe.config.Config;
import org.clmr.protocol.config.ConfigReader;

import java.time.Duration;

/**
 * The data path's settings, read from {@code clmr.data} (defaults and comments in this module's
 * reference.conf).
 *
 * @param prepareJobs      ffmpeg processes at once; 0 = one per core
 * @param minSeconds       shorter inputs are skipped
 * @param ffmpeg           the ffmpeg executable
 * @param progressInterval progress log interval when not on a terminal
 * @param concatSongs      pre-train on whole songs (a song's clips concatenated)
 * @param pipelineThreads  batch assembly threads
 * @param prefetch         batches assembled ahead
 * @param generateSeconds  length of a generated track
 * @param generateSeed     seed of the generated set
 */
public record DataSettings(int prepareJobs, double minSeconds, String ffmpeg, Duration progressInterval,
                           boolean concatSongs, int pipelineThreads, int prefetch, double generateSeconds,
                           long generateSeed) {

    /** Reads and validates {@code clmr.data}. */
    public static DataSettings from(Config resolved) {
        ConfigReader r = new ConfigReader(resolved, "").at("clmr").at("data");
        ConfigReader p = r.at("prepare");
        ConfigReader pl = r.at("pipeline");
        ConfigReader g = r.at("generate");
        return new DataSettings(
                p.getInt("jobs", 0, 1024),
                p.getDouble("min-seconds", 0.0, 3600.0),
                p.getString("ffmpeg"),
                p.getDuration("progress-interval", Duration.ofMillis(100), Duration.ofHours(1)),
                r.at("pretrain").getBoolean("concat-songs"),
                pl.getInt("threads", 1, 256),
                pl.getInt("prefetch", 1, 64),
                g.getDouble("seconds", 0.1, 3600.0),
                g.getLong("seed", Long.MIN_VALUE, Long.MAX_VALUE));
    }

    /** Decoding threads to use: {@code prepareJobs}, or the number of cores when it is 0. */
    public int effectiveJobs() {
        return prepareJobs > 0 ? prepareJobs : Runtime.getRuntime().availableProcessors();
    }
}
