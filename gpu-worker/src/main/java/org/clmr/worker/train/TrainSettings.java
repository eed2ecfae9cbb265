package org.clmr.worker.train;

import ai.djl.Device;
import com.typesafe.config.Config;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;

/**
 * {@code clmr.worker}: the device and the training loop's settings ({@code clmr train} and cluster workers
 * alike; the progress interval and the generated tone set are {@code clmr train}'s only), validated.
 *
 * @param device                   model device, e.g. {@code cpu} or {@code gpu:0}
 * @param threads                  PyTorch intra-op threads (0: PyTorch's default)
 * @param logEverySteps            progress line interval
 * @param maxConsecutiveNonFinite  skipped steps in a row that stop the run
 * @param syntheticTracks          size of the generated tone set used without a dataset
 */
public record TrainSettings(String device, int threads, int logEverySteps, int maxConsecutiveNonFinite,
                            int syntheticTracks) {

    /** Reads and validates {@code clmr.worker}. */
    public static TrainSettings from(Config config) {
        ConfigReader w = new ConfigReader(config, "").at("clmr").at("worker");
        ConfigReader t = w.at("train");
        TrainSettings s = new TrainSettings(w.getString("device"), w.getInt("threads", 0, 1024),
                t.getInt("log-every-steps", 1, Integer.MAX_VALUE),
                t.getInt("max-consecutive-non-finite", 1, 1_000_000),
                t.getInt("synthetic-tracks", 2, 10_000_000));
        s.djlDevice();
        return s;
    }

    /** The DJL device named by {@link #device()}; {@code cuda:N} is accepted as {@code gpu:N}. */
    public Device djlDevice() {
        java.util.regex.Matcher m = DEVICE.matcher(device.trim().toLowerCase(java.util.Locale.ROOT));
        if (!m.matches()) {
            throw new SettingsException("clmr.worker.device", device, "must be cpu or gpu:N (cuda:N)");
        }
        return m.group(1).equals("cpu") ? Device.cpu() : Device.gpu(m.group(2) == null ? 0 : Integer.parseInt(m.group(2)));
    }

    private static final java.util.regex.Pattern DEVICE = java.util.regex.Pattern.compile("(cpu|gpu|cuda)(?::(\\d+))?");
}
