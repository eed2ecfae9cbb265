package org.clmr.worker.device;

import java.util.Locale;

/**
 * A device a worker process can train on, as detected on this machine.
 *
 * @param id          how {@code clmr worker --device} names it: {@code cpu} or {@code cuda:N}
 * @param model       GPU model (e.g. "NVIDIA H100 80GB HBM3") or CPU model name
 * @param memoryBytes the GPU's memory, or the machine's main memory for the CPU; 0 when unknown
 * @param cores       CPU cores available to this JVM; 0 for a GPU
 */
public record DeviceInfo(String id, String model, long memoryBytes, int cores) {

    /** Whether this is the CPU. */
    public boolean isCpu() {
        return id.equals("cpu");
    }

    /**
     * One line for registration and {@code clmr status}, e.g. {@code cuda:0 NVIDIA A100-SXM4-80GB 80.0 GiB}
     * or {@code cpu AMD EPYC, 2 cores, 23.5 GiB}.
     */
    public String describe() {
        StringBuilder b = new StringBuilder(id).append(' ').append(model);
        if (cores > 0) {
            b.append(", ").append(cores).append(cores == 1 ? " core" : " cores");
        }
        if (memoryBytes > 0) {
            b.append(isCpu() ? ", " : " ").append(String.format(Locale.ROOT, "%.1f GiB", memoryBytes / (double) (1L << 30)));
        }
        return b.toString();
    }
}
