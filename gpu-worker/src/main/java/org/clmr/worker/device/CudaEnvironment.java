package org.clmr.worker.device;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The environment a process training on a GPU starts with. CUDA reads it once, when the process first
 * touches the GPU, so it is set by whoever starts the process ({@code clmr worker --devices} for each
 * worker) and checked by the process before it does:
 * <ul>
 *   <li>{@code CUDA_VISIBLE_DEVICES=N}: the worker sees only its GPU (no context on the others);</li>
 *   <li>{@code CUDA_DEVICE_ORDER=PCI_BUS_ID}: CUDA numbers GPUs as nvidia-smi does (its default puts the
 *       fastest first), so {@code cuda:N} is the same GPU for the supervisor, the worker and the operator;</li>
 *   <li>{@code NVIDIA_TF32_OVERRIDE=0} unless {@code clmr.worker.cuda.allow-tf32}: no TensorFloat-32 in
 *       cuBLAS or cuDNN (10-bit mantissas, and used or not as kernels are chosen), so a resumed run
 *       recomputes the same bits;</li>
 *   <li>{@code CUBLAS_WORKSPACE_CONFIG=:4096:8}: cuBLAS's deterministic workspace (without it, matrix
 *       products on several streams may round differently from run to run).</li>
 * </ul>
 * Stateless; any thread.
 */
public final class CudaEnvironment {
    public static final String VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES";
    public static final String DEVICE_ORDER = "CUDA_DEVICE_ORDER";
    public static final String TF32_OVERRIDE = "NVIDIA_TF32_OVERRIDE";
    public static final String CUBLAS_WORKSPACE = "CUBLAS_WORKSPACE_CONFIG";
    static final String PCI_BUS_ID = "PCI_BUS_ID";
    static final String DETERMINISTIC_WORKSPACE = ":4096:8";

    private CudaEnvironment() {
    }

    /**
     * The variables of a worker process for GPU {@code index} (nvidia-smi's index, which is PCI bus order).
     */
    public static Map<String, String> forWorker(int index, boolean allowTf32) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(VISIBLE_DEVICES, String.valueOf(index));
        env.put(DEVICE_ORDER, PCI_BUS_ID);
        env.put(CUBLAS_WORKSPACE, DETERMINISTIC_WORKSPACE);
        if (!allowTf32) {
            env.put(TF32_OVERRIDE, "0");
        }
        return env;
    }

    /**
     * What in {@code env} keeps a process from training on a GPU as a run needs: one line naming the
     * variables, their values and how to set them, or empty when nothing does.
     */
    public static Optional<String> problem(Map<String, String> env, boolean allowTf32) {
        List<String> wrong = new ArrayList<>();
        expect(env, CUBLAS_WORKSPACE, DETERMINISTIC_WORKSPACE, wrong);
        if (!allowTf32) {
            expect(env, TF32_OVERRIDE, "0", wrong);
        }
        if (env.containsKey(VISIBLE_DEVICES)) {
            expect(env, DEVICE_ORDER, PCI_BUS_ID, wrong);
        }
        if (wrong.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("a process training on a GPU needs " + String.join(", ", wrong) + " in its environment"
                + " (reproducible bits" + (allowTf32 ? "" : ", no TF32") + "): start workers with `clmr worker --devices`,"
                + " which sets them, or export them"
                + (allowTf32 ? "" : "; clmr.worker.cuda.allow-tf32 = on allows TF32"));
    }

    private static void expect(Map<String, String> env, String name, String value, List<String> wrong) {
        String is = env.get(name);
        if (!value.equals(is)) {
            wrong.add(name + "=" + value + (is == null ? " (unset)" : " (is " + is + ")"));
        }
    }

    /**
     * The CUDA ordinal of GPU {@code index} (nvidia-smi's index) in a process with environment {@code env}:
     * its position in {@code CUDA_VISIBLE_DEVICES}, or the index itself when that is unset.
     *
     * @throws IllegalArgumentException naming the variable when it does not list the GPU by its index
     */
    public static int ordinal(int index, Map<String, String> env) {
        String visible = env.get(VISIBLE_DEVICES);
        if (visible == null) {
            return index;
        }
        String[] listed = visible.split(",");
        for (int i = 0; i < listed.length; i++) {
            if (listed[i].trim().equals(String.valueOf(index))) {
                return i;
            }
        }
        throw new IllegalArgumentException("cuda:" + index + " is not among " + VISIBLE_DEVICES + "=" + visible
                + " (GPUs by nvidia-smi index, comma-separated)");
    }

    /**
     * How nvidia-smi names CUDA ordinal {@code ordinal} of a process with environment {@code env}: its entry
     * of {@code CUDA_VISIBLE_DEVICES} (an index or a UUID), or the ordinal itself when that is unset.
     */
    public static String physical(int ordinal, Map<String, String> env) {
        String visible = env.get(VISIBLE_DEVICES);
        if (visible == null) {
            return String.valueOf(ordinal);
        }
        String[] listed = visible.split(",");
        if (ordinal >= listed.length) {
            throw new IllegalArgumentException("CUDA ordinal " + ordinal + " is past " + VISIBLE_DEVICES + "=" + visible);
        }
        return listed[ordinal].trim();
    }
}
