package org.clmr.worker.metrics;

import ai.djl.Device;
import org.clmr.worker.device.CudaEnvironment;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Memory of the device the model lives on, read at scrape time (any thread).
 * <ul>
 *   <li>CUDA: the GPU's memory in use and its total, as {@code nvidia-smi} reports them (all processes on
 *       that GPU), for the GPU this process sees as its ordinal (its {@code CUDA_VISIBLE_DEVICES} entry).
 *       Neither the CUDA runtime nor a system {@code libcudart} is needed, and no context is created; a
 *       reading is kept for {@value #GPU_READING_MS} ms, so that a scrape runs nvidia-smi at most once. Where
 *       nvidia-smi is missing or fails, the figures are unknown and not reported.</li>
 *   <li>CPU: the tensors live in PyTorch's native allocations, outside the Java heap, so "in use" is
 *       this process's resident set size ({@code VmRSS} of {@code /proc/self/status}: native tensors,
 *       Java heap and code together), and the total is the machine's physical memory. Where
 *       {@code /proc} is missing (not Linux) the resident size is unknown and not reported.</li>
 * </ul>
 */
public final class DeviceMemory {
    static final long GPU_READING_MS = 5000;
    private static final Path STATUS = Path.of("/proc/self/status");

    private final Device device;
    private final Function<String, String> nvidiaSmi;
    private long readAtNs;
    private long[] reading;

    private DeviceMemory(Device device, Function<String, String> nvidiaSmi) {
        this.device = device;
        this.nvidiaSmi = nvidiaSmi;
    }

    /** The memory of {@code device}. */
    public static DeviceMemory of(Device device) {
        return new DeviceMemory(device, DeviceMemory::nvidiaSmi);
    }

    /** As {@link #of(Device)}, reading GPUs through {@code query} (nvidia-smi's {@code -i} argument to its output). */
    static DeviceMemory of(Device device, Function<String, String> query) {
        return new DeviceMemory(device, query);
    }

    /** Whether the device is a GPU. */
    public boolean isGpu() {
        return device.isGpu();
    }

    /** Bytes in use, if known. */
    public OptionalLong usedBytes() {
        if (device.isGpu()) {
            long[] r = gpu();
            return r == null ? OptionalLong.empty() : OptionalLong.of(r[0]);
        }
        return residentSetBytes();
    }

    /** Bytes in all, if known. */
    public OptionalLong totalBytes() {
        if (device.isGpu()) {
            long[] r = gpu();
            return r == null ? OptionalLong.empty() : OptionalLong.of(r[1]);
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return OptionalLong.of(os.getTotalMemorySize());
        }
        return OptionalLong.empty();
    }

    /** {used, total} bytes of this process's GPU, at most {@link #GPU_READING_MS} old, or null. */
    private synchronized long[] gpu() {
        long now = System.nanoTime();
        if (reading == null || now - readAtNs > TimeUnit.MILLISECONDS.toNanos(GPU_READING_MS)) {
            try {
                reading = parse(nvidiaSmi.apply(CudaEnvironment.physical(device.getDeviceId(), System.getenv())));
            } catch (IllegalArgumentException e) {
                reading = null;   // an ordinal this process's CUDA_VISIBLE_DEVICES does not name: unknown
            }
            readAtNs = now;
        }
        return reading;
    }

    /** {used, total} bytes of a {@code memory.used,memory.total} line in MiB, or null. */
    static long[] parse(String csv) {
        if (csv == null) {
            return null;
        }
        String[] f = csv.trim().split("\\s*,\\s*");
        try {
            return f.length == 2 ? new long[] {Long.parseLong(f[0]) << 20, Long.parseLong(f[1]) << 20} : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String nvidiaSmi(String id) {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "-i", id, "--query-gpu=memory.used,memory.total",
                    "--format=csv,noheader,nounits").redirectErrorStream(true).start();
            try {
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
            } finally {
                p.destroy();
            }
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** This process's resident set size from {@code /proc/self/status}, if readable. */
    public static OptionalLong residentSetBytes() {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith("VmRSS:")) {
                    // "VmRSS:   123456 kB"
                    String[] f = line.substring(6).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(f[0]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
