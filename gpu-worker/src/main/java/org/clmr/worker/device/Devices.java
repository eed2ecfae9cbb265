package org.clmr.worker.device;

import org.clmr.protocol.config.SettingsException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The devices of this machine: CUDA GPUs (model and memory from {@code nvidia-smi}, else models from the
 * driver's {@code /proc/driver/nvidia/gpus}, both in PCI bus order) and the CPU (model from
 * {@code /proc/cpuinfo}, cores available to the JVM, main memory from {@code /proc/meminfo}). Neither source
 * loads the CUDA runtime nor creates a context on any GPU (the supervisor of {@code clmr worker --devices}
 * holds none; each worker creates one, on its own GPU). Used by {@code clmr worker --devices} to start one
 * worker per device and by every worker to describe its device at registration. Blocking (it may run a
 * process); call it at start-up, not on an actor's thread.
 */
public final class Devices {
    private static final Pattern CUDA = Pattern.compile("(?:cuda|gpu):(\\d+)");
    private static final Path DRIVER_GPUS = Path.of("/proc/driver/nvidia/gpus");

    private Devices() {
    }

    /**
     * What was found.
     *
     * @param gpus      the GPUs, by index
     * @param cpu       the CPU
     * @param gpuSource where the GPUs came from ("nvidia-smi" or the driver's directory), or why none were found
     */
    public record Detected(List<DeviceInfo> gpus, DeviceInfo cpu, String gpuSource) {
        public Detected {
            gpus = List.copyOf(gpus);
        }
    }

    /** Detects this machine's devices. */
    public static Detected detect() {
        DeviceInfo cpu = cpu();
        String smi;
        try {
            smi = nvidiaSmi();
        } catch (IOException e) {
            smi = null;
        }
        if (smi != null) {
            List<DeviceInfo> gpus = parseNvidiaSmi(smi);
            if (!gpus.isEmpty()) {
                return new Detected(gpus, cpu, "nvidia-smi");
            }
        }
        List<DeviceInfo> gpus = driverGpus(DRIVER_GPUS);
        if (!gpus.isEmpty()) {
            return new Detected(gpus, cpu, DRIVER_GPUS.toString());
        }
        return new Detected(List.of(), cpu, smi == null ? "no nvidia-smi on PATH and no " + DRIVER_GPUS
                : "nvidia-smi lists no GPU");
    }

    /**
     * The devices a {@code --devices} value names: {@code all} (every GPU, or the CPU on a machine without
     * one), {@code cpu}, or a comma-separated list of {@code cuda:N} (also {@code gpu:N}) that exist here.
     *
     * @throws SettingsException naming the value, what was found and what is allowed
     */
    public static List<DeviceInfo> resolve(String spec, Detected found) {
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("all")) {
            return found.gpus().isEmpty() ? List.of(found.cpu()) : found.gpus();
        }
        if (s.equals("cpu")) {
            return List.of(found.cpu());
        }
        Set<DeviceInfo> out = new LinkedHashSet<>();
        for (String part : s.split(",")) {
            Matcher m = CUDA.matcher(part.trim());
            if (!m.matches()) {
                throw new SettingsException("--devices", spec, "all, cpu, or cuda:N[,cuda:M...]");
            }
            int index = Integer.parseInt(m.group(1));
            if (index >= found.gpus().size()) {
                throw new SettingsException("--devices", spec + " names cuda:" + index + " but this machine has "
                        + found.gpus().size() + " GPU(s) (" + found.gpuSource() + "); use --devices all or cpu");
            }
            if (!out.add(found.gpus().get(index))) {
                throw new SettingsException("--devices", spec + " names cuda:" + index + " twice; one worker per device");
            }
        }
        return List.copyOf(out);
    }

    /** The one-line description of the device a worker trains on ({@code cpu}, {@code cuda:N} or {@code gpu:N}). */
    public static String describe(String device) {
        Matcher m = CUDA.matcher(device);
        if (!m.matches()) {
            return cpu().describe();
        }
        int index = Integer.parseInt(m.group(1));
        List<DeviceInfo> gpus = detect().gpus();
        return index < gpus.size() ? gpus.get(index).describe() : "cuda:" + index + " (not detected)";
    }

    /**
     * Parses {@code nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader,nounits}: one line per
     * GPU, {@code 0, NVIDIA H100 80GB HBM3, 81559} (memory in MiB).
     */
    static List<DeviceInfo> parseNvidiaSmi(String csv) {
        List<DeviceInfo> out = new ArrayList<>();
        for (String line : csv.split("\\R")) {
            String[] f = line.split(",");
            if (f.length < 3) {
                continue;
            }
            try {
                int index = Integer.parseInt(f[0].trim());
                long mib = Long.parseLong(f[f.length - 1].trim());
                String name = String.join(",", java.util.Arrays.copyOfRange(f, 1, f.length - 1)).trim();
                out.add(new DeviceInfo("cuda:" + index, name, mib << 20, 0));
            } catch (NumberFormatException e) {
                // a header or a "[N/A]" field: not a GPU line
            }
        }
        out.sort(java.util.Comparator.comparingInt(d -> Integer.parseInt(d.id().substring(5))));
        return out;
    }

    private static String nvidiaSmi() throws IOException {
        Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=index,name,memory.total",
                "--format=csv,noheader,nounits").redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            p.destroy();
        }
    }

    /**
     * The GPUs of the NVIDIA driver's {@code gpus} directory: one folder per GPU named by its PCI bus id, so
     * that sorting the names is PCI bus order (nvidia-smi's); the model from the {@code Model:} line of its
     * {@code information} file, the memory unknown (0).
     */
    static List<DeviceInfo> driverGpus(Path dir) {
        List<DeviceInfo> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (java.util.stream.Stream<Path> buses = Files.list(dir)) {
            List<Path> sorted = buses.sorted(java.util.Comparator.comparing(p -> p.getFileName().toString()
                    .toLowerCase(java.util.Locale.ROOT))).toList();
            for (Path bus : sorted) {
                String model = "NVIDIA GPU at " + bus.getFileName();
                Path info = bus.resolve("information");
                if (Files.isReadable(info)) {
                    for (String line : Files.readAllLines(info)) {
                        if (line.startsWith("Model:")) {
                            model = line.substring(6).trim();
                        }
                    }
                }
                out.add(new DeviceInfo("cuda:" + out.size(), model, 0, 0));
            }
        } catch (IOException e) {
            // an unreadable driver directory: no GPUs from it
            out.clear();
        }
        return out;
    }

    /** The CPU: model name, cores available to this JVM, main memory. */
    static DeviceInfo cpu() {
        String model = System.getProperty("os.arch");
        long memory = 0;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    memory = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    break;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: the architecture and no memory figure
        }
        return new DeviceInfo("cpu", model, memory, Runtime.getRuntime().availableProcessors());
    }
}
