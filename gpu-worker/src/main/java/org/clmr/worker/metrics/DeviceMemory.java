package org.clmr.worker.metrics;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Memory of the device the model lives on, read at scrape time (any thread).
 * <ul>
 *   <li>CUDA: the device's memory in use and its total, as the CUDA runtime reports them (all processes
 *       on that GPU, like {@code nvidia-smi});</li>
 *   <li>CPU: the tensors live in PyTorch's native allocations, outside the Java heap, so "in use" is
 *       this process's resident set size ({@code VmRSS} of {@code /proc/self/status}: native tensors,
 *       Java heap and code together), and the total is the machine's physical memory. Where
 *       {@code /proc} is missing (not Linux) the resident size is unknown and not reported.</li>
 * </ul>
 */
public final class DeviceMemory {
    private static final Path STATUS = Path.of("/proc/self/status");

    private final Device device;

    private DeviceMemory(Device device) {
        this.device = device;
    }

    /** The memory of {@code device}. */
    public static DeviceMemory of(Device device) {
        return new DeviceMemory(device);
    }

    /** Whether the device is a GPU. */
    public boolean isGpu() {
        return device.isGpu();
    }

    /** Bytes in use, if known. */
    public OptionalLong usedBytes() {
        if (device.isGpu()) {
            MemoryUsage m = CudaUtils.getGpuMemory(device);
            return OptionalLong.of(m.getUsed());
        }
        return residentSetBytes();
    }

    /** Bytes in all, if known. */
    public OptionalLong totalBytes() {
        if (device.isGpu()) {
            return OptionalLong.of(CudaUtils.getGpuMemory(device).getMax());
        }
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return OptionalLong.of(os.getTotalMemorySize());
        }
        return OptionalLong.empty();
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
