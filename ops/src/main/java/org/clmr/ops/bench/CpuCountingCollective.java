package org.clmr.ops.bench;

import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.OpTag;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A rank's collective in {@code clmr bench step} that counts the CPU time its operations take on threads other
 * than the rank's own. With more than one rank the distributed step runs every collective on a communication
 * thread that lives for one step, so the rank thread's CPU time holds none of the exchange (nor its frame MACs):
 * this adds it. Created on the rank's thread; {@link #takeOffThreadNanos} is read there after the step, whose
 * end joins the communication thread.
 */
final class CpuCountingCollective implements Collective {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final Collective delegate;
    private final Thread owner = Thread.currentThread();
    private final AtomicLong offThreadNanos = new AtomicLong();

    CpuCountingCollective(Collective delegate) {
        this.delegate = delegate;
    }

    /** CPU nanoseconds spent in operations off the rank's thread since the last call, and resets the count. */
    long takeOffThreadNanos() {
        return offThreadNanos.getAndSet(0);
    }

    @Override
    public int rank() {
        return delegate.rank();
    }

    @Override
    public int worldSize() {
        return delegate.worldSize();
    }

    @Override
    public void allReduceSum(OpTag tag, float[] data, int offset, int length) {
        long t = start();
        try {
            delegate.allReduceSum(tag, data, offset, length);
        } finally {
            stop(t);
        }
    }

    @Override
    public void allReduceSum(OpTag tag, double[] data) {
        long t = start();
        try {
            delegate.allReduceSum(tag, data);
        } finally {
            stop(t);
        }
    }

    @Override
    public float[] allGather(OpTag tag, float[] local, int[] counts) {
        long t = start();
        try {
            return delegate.allGather(tag, local, counts);
        } finally {
            stop(t);
        }
    }

    @Override
    public float[] reduceScatterSum(OpTag tag, float[] data, int[] counts) {
        long t = start();
        try {
            return delegate.reduceScatterSum(tag, data, counts);
        } finally {
            stop(t);
        }
    }

    @Override
    public byte[] broadcast(OpTag tag, byte[] data, int root) {
        long t = start();
        try {
            return delegate.broadcast(tag, data, root);
        } finally {
            stop(t);
        }
    }

    @Override
    public void close() {
        delegate.close();
    }

    /** The calling thread's CPU time, or -1 on the rank's own thread, whose CPU time its caller counts. */
    private long start() {
        return Thread.currentThread() == owner ? -1 : THREADS.getCurrentThreadCpuTime();
    }

    private void stop(long started) {
        if (started >= 0) {
            offThreadNanos.addAndGet(THREADS.getCurrentThreadCpuTime() - started);
        }
    }
}
