package org.clmr.worker.device;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.data.random.Rng;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.protocol.run.OptimizerSpec;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.InProcessCollective;
import org.clmr.worker.collective.LocalCollective;
import org.clmr.worker.metrics.DeviceMemory;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.NativeResources;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.ViewPairs;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The CUDA check of a machine with a GPU (scripts/gpu-check.sh runs it there; see docs/distributed-step.md):
 * a small main of the project's own that needs DJL, the worker's classes and no Akka. It prints one JSON
 * object per check, one per line:
 * <ol>
 *   <li>{@code parity}: one step of the same weights and batch on the CPU and on the device: loss, relative
 *       gradient difference, largest weight difference after Adam;</li>
 *   <li>{@code steps}: {@code --steps} steps of one rank at {@code --batch}: ms per step and its phases,
 *       transfers and bytes per step, and per step after the first five the growth of the host's resident set
 *       and of the network's managed native resources (the leak of issue #20);</li>
 *   <li>{@code ranks}: the same with two ranks (threads, in-process exchange) on the one device: ms per step,
 *       exposed communication, whether both end with equal fingerprints;</li>
 *   <li>{@code determinism}: the same step twice from fresh networks: equal fingerprints (TF32 off).</li>
 * </ol>
 * Arguments: {@code DEVICE PRESET BATCH STEPS} (e.g. {@code cuda:0 paper 48 30}); on a CPU-only machine
 * {@code cpu tiny 4 8} runs the same code. Main thread; exits 1 when a check fails.
 */
public final class GpuCheck {
    private static final OptimizerSpec ADAM = new OptimizerSpec(3e-4, 0.9, 0.999, 1e-8);
    private static final double TAU = 0.5;
    private static final long SEED = 20;
    private static final int SETTLE = 5;

    private GpuCheck() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: GpuCheck DEVICE PRESET BATCH STEPS   (e.g. cuda:0 paper 48 30)");
            System.exit(2);
        }
        int index = args[0].equals("cpu") ? -1 : Integer.parseInt(args[0].substring(args[0].indexOf(':') + 1));
        CudaEnvironment.problem(System.getenv(), false).filter(p -> index >= 0).ifPresent(p -> {
            System.err.println(p);
            System.exit(2);
        });
        Device device = index < 0 ? Device.cpu() : Device.gpu(CudaEnvironment.ordinal(index, System.getenv()));
        ModelSpec model = ModelSpec.preset(args[1], 128).validated();
        int batch = Integer.parseInt(args[2]);
        int steps = Integer.parseInt(args[3]);
        System.exit(run(device, model, batch, steps) ? 0 : 1);
    }

    /** Runs the four checks, printing a line each; whether all passed. */
    static boolean run(Device device, ModelSpec model, int batch, int steps) throws Exception {
        Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(1);
        ViewPairs data = gaussian(batch, model.inputLength());
        boolean ok = parity(model, device, data);
        ok &= steps(model, device, data, steps);
        ok &= ranks(model, device, data, steps);
        ok &= determinism(model, device, data);
        return ok;
    }

    private static boolean parity(ModelSpec model, Device device, ViewPairs data) {
        double[] loss = new double[2];
        float[][] gradient = new float[2][];
        float[][] weights = new float[2][];
        Device[] devices = {Device.cpu(), device};
        for (int d = 0; d < 2; d++) {
            try (ClmrNetwork net = ClmrNetwork.create(model, SEED, devices[d]);
                 Adam adam = new Adam(ADAM, net.params())) {
                DistributedStep step = new DistributedStep(net, adam, TAU, new LocalCollective(0), 0);
                DistributedStep.Pending p = step.computeGradients(0, new int[] {data.batch()}, data::slice);
                loss[d] = p.loss();
                gradient[d] = Gradients.flatten(net.params());
                step.apply(p);
                weights[d] = ClmrNetwork.weights(net.params());
            }
        }
        double gradientDiff = relative(gradient[0], gradient[1]);
        double weightDiff = maxAbs(weights[0], weights[1]);
        // float32 kernels of two devices round differently; Adam moves a weight by about lr whatever its gradient
        boolean ok = Math.abs(loss[0] - loss[1]) <= 1e-4 * Math.abs(loss[0]) && gradientDiff < 1e-3
                && weightDiff <= 2 * ADAM.learningRate();
        print("parity", ok, "\"loss_cpu\":%.9g,\"loss_device\":%.9g,\"gradient_relative_diff\":%.3g,"
                + "\"weight_max_abs_diff\":%.3g", loss[0], loss[1], gradientDiff, weightDiff);
        return ok;
    }

    private static boolean steps(ModelSpec model, Device device, ViewPairs data, int steps) {
        try (ClmrNetwork net = ClmrNetwork.create(model, SEED, device);
             Adam adam = new Adam(ADAM, net.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, new LocalCollective(0), 0);
            long[] sum = new long[7];
            long rssSettled = 0;
            int resourcesSettled = 0;
            for (int k = 0; k < steps; k++) {
                DistributedStep.Result r = step.run(k, new int[] {data.batch()}, data::slice);
                if (k == SETTLE - 1) {
                    rssSettled = DeviceMemory.residentSetBytes().orElse(0);
                    resourcesSettled = NativeResources.of(net.manager()).total();
                }
                if (k >= SETTLE) {
                    add(sum, r);
                }
            }
            int timed = Math.max(1, steps - SETTLE);
            double rssPerStep = (DeviceMemory.residentSetBytes().orElse(0) - rssSettled) / (double) timed;
            double resourcesPerStep = (NativeResources.of(net.manager()).total() - resourcesSettled) / (double) timed;
            boolean ok = resourcesPerStep == 0;
            print("steps", ok, "\"batch\":%d,\"steps\":%d,\"ms_per_step\":%.2f,\"forward_ms\":%.2f,\"loss_ms\":%.2f,"
                            + "\"backward_ms\":%.2f,\"optimizer_ms\":%.2f,\"transfers_per_step\":%.1f,"
                            + "\"transfer_bytes_per_step\":%.0f,\"rss_bytes_per_step\":%.0f,\"native_resources_per_step\":%.2f",
                    data.batch(), steps, sum[0] / 1e6 / timed, sum[1] / 1e6 / timed, sum[2] / 1e6 / timed,
                    sum[3] / 1e6 / timed, sum[4] / 1e6 / timed, sum[5] / (double) timed, sum[6] / (double) timed,
                    rssPerStep, resourcesPerStep);
            return ok;
        }
    }

    private static boolean ranks(ModelSpec model, Device device, ViewPairs data, int steps) throws Exception {
        int[] shares = {data.batch() - data.batch() / 2, data.batch() / 2};
        List<Collective> world = InProcessCollective.group(2, 0, 600_000);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Object[]>> futures = new ArrayList<>();
            for (Collective c : world) {
                futures.add(pool.submit(() -> rank(model, device, data, steps, shares, c)));
            }
            Object[] a = futures.get(0).get();
            Object[] b = futures.get(1).get();
            boolean same = a[0].equals(b[0]);
            print("ranks", same, "\"shares\":[%d,%d],\"ms_per_step\":%.2f,\"exposed_communication_percent\":%.1f,"
                    + "\"equal_fingerprints\":%b", shares[0], shares[1], (double) a[1], (double) a[2], same);
            return same;
        } finally {
            pool.shutdownNow();
        }
    }

    /** {fingerprint, ms per step, exposed percent} of one rank. */
    private static Object[] rank(ModelSpec model, Device device, ViewPairs data, int steps, int[] shares, Collective c) {
        JniUtils.setNumThreads(1);
        try (ClmrNetwork net = ClmrNetwork.create(model, SEED, device);
             Adam adam = new Adam(ADAM, net.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, c, 0);
            long total = 0;
            long communication = 0;
            for (int k = 0; k < steps; k++) {
                DistributedStep.Result r = step.run(k, shares, data::slice);
                if (k >= SETTLE || steps <= SETTLE) {
                    total += r.phases().totalNs();
                    communication += r.phases().communicationNs();
                }
            }
            int timed = steps <= SETTLE ? steps : steps - SETTLE;
            return new Object[] {net.fingerprint(), total / 1e6 / timed, 100.0 * communication / Math.max(1, total)};
        }
    }

    private static boolean determinism(ModelSpec model, Device device, ViewPairs data) {
        String[] fingerprints = new String[2];
        for (int i = 0; i < 2; i++) {
            try (ClmrNetwork net = ClmrNetwork.create(model, SEED, device);
                 Adam adam = new Adam(ADAM, net.params())) {
                new DistributedStep(net, adam, TAU, new LocalCollective(0), 0).run(0, new int[] {data.batch()}, data::slice);
                fingerprints[i] = net.fingerprint();
            }
        }
        boolean same = fingerprints[0].equals(fingerprints[1]);
        print("determinism", same, "\"fingerprint\":\"%s\",\"again\":\"%s\"", fingerprints[0], fingerprints[1]);
        return same;
    }

    private static void add(long[] sum, DistributedStep.Result r) {
        DistributedStep.Phases p = r.phases();
        sum[0] += p.totalNs();
        sum[1] += p.forwardNs();
        sum[2] += p.lossNs();
        sum[3] += p.backwardNs();
        sum[4] += p.optimizerNs();
        sum[5] += r.traffic().transfers();
        sum[6] += r.traffic().transferBytes();
    }

    private static void print(String check, boolean ok, String format, Object... values) {
        System.out.println("{\"check\":\"" + check + "\",\"ok\":" + ok + "," + String.format(Locale.ROOT, format, values) + "}");
        System.out.flush();
    }

    private static ViewPairs gaussian(int batch, int length) {
        Rng rng = new Rng(1);
        float[][] v = new float[2][batch * length];
        for (float[] view : v) {
            for (int i = 0; i < view.length; i++) {
                view[i] = (float) (0.3 * rng.nextGaussian());
            }
        }
        return new ViewPairs(batch, length, v[0], v[1]);
    }

    private static double relative(float[] a, float[] b) {
        double scale = 0;
        for (float v : a) {
            scale = Math.max(scale, Math.abs(v));
        }
        return maxAbs(a, b) / Math.max(scale, 1e-30);
    }

    private static double maxAbs(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }
}
