package org.clmr.worker.train;

import ai.djl.Device;
import com.typesafe.config.Config;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;
import org.clmr.worker.device.CudaEnvironment;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code clmr.worker}: the device and the training loop's settings ({@code clmr train} and cluster workers
 * alike; the progress interval and the generated tone set are {@code clmr train}'s only), validated.
 *
 * @param device                   model device, e.g. {@code cpu} or {@code gpu:0}
 * @param threads                  PyTorch intra-op threads (0: PyTorch's default)
 * @param logEverySteps            progress line interval
 * @param maxConsecutiveNonFinite  skipped steps in a row that stop the run
 * @param syntheticTracks          size of the generated tone set used without a dataset
 * @param allowTf32                whether GPU workers may use TensorFloat-32 ({@code clmr.worker.cuda.allow-tf32})
 */
public record TrainSettings(String device, int threads, int logEverySteps, int maxConsecutiveNonFinite,
                            int syntheticTracks, boolean allowTf32) {
    private static final Pattern DEVICE = Pattern.compile("(cpu|gpu|cuda)(?::(\\d+))?");

    /** Reads and validates {@code clmr.worker}. */
    public static TrainSettings from(Config config) {
        ConfigReader w = new ConfigReader(config, "").at("clmr").at("worker");
        ConfigReader t = w.at("train");
        TrainSettings s = new TrainSettings(w.getString("device"), w.getInt("threads", 0, 1024),
                t.getInt("log-every-steps", 1, Integer.MAX_VALUE),
                t.getInt("max-consecutive-non-finite", 1, 1_000_000),
                t.getInt("synthetic-tracks", 2, 10_000_000), w.at("cuda").getBoolean("allow-tf32"));
        s.gpuIndex();
        return s;
    }

    /**
     * The DJL device named by {@link #device()} in this process; {@code cuda:N} is accepted as {@code gpu:N}
     * and names nvidia-smi's GPU N, whatever CUDA's own numbering in this process.
     *
     * @throws UserError when this process's environment lacks what a GPU needs ({@link CudaEnvironment})
     */
    public Device djlDevice() {
        return djlDevice(System.getenv());
    }

    /** As {@link #djlDevice()} in a process with environment {@code env}. */
    Device djlDevice(Map<String, String> env) {
        int index = gpuIndex();
        if (index < 0) {
            return Device.cpu();
        }
        CudaEnvironment.problem(env, allowTf32).ifPresent(p -> {
            throw new UserError("clmr.worker.device = " + device + ": " + p);
        });
        try {
            return Device.gpu(CudaEnvironment.ordinal(index, env));
        } catch (IllegalArgumentException e) {
            throw new UserError("clmr.worker.device = " + device + ": " + e.getMessage()
                    + "; start workers with `clmr worker --devices`, or name a GPU this process sees");
        }
    }

    /** nvidia-smi's index of the GPU named by {@link #device()}, or -1 for the CPU. */
    public int gpuIndex() {
        Matcher m = DEVICE.matcher(device.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new SettingsException("clmr.worker.device", device, "must be cpu or gpu:N (cuda:N)");
        }
        return m.group(1).equals("cpu") ? -1 : m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
    }
}
