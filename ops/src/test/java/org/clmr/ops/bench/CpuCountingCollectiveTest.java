package org.clmr.ops.bench;

import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.OpTag;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuCountingCollectiveTest {

    /** An all-reduce that burns 20 ms of its thread's CPU time; nothing else is called. */
    private static final class Burning implements Collective {
        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int worldSize() {
            return 2;
        }

        @Override
        public void allReduceSum(OpTag tag, float[] data, int offset, int length) {
            var threads = ManagementFactory.getThreadMXBean();
            long until = threads.getCurrentThreadCpuTime() + TimeUnit.MILLISECONDS.toNanos(20);
            while (threads.getCurrentThreadCpuTime() < until) {
                data[offset] += 1;
            }
        }

        @Override
        public void allReduceSum(OpTag tag, double[] data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public float[] allGather(OpTag tag, float[] local, int[] counts) {
            throw new UnsupportedOperationException();
        }

        @Override
        public float[] reduceScatterSum(OpTag tag, float[] data, int[] counts) {
            throw new UnsupportedOperationException();
        }

        @Override
        public byte[] broadcast(OpTag tag, byte[] data, int root) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
        }
    }

    @Test
    void shouldCountTheCpuTimeOfOperationsOffTheRanksThreadOnly() throws Exception {
        CpuCountingCollective c = new CpuCountingCollective(new Burning());
        c.allReduceSum(null, new float[1], 0, 1);
        assertEquals(0, c.takeOffThreadNanos(), "the rank thread's own CPU time is its caller's to count");

        Thread comm = new Thread(() -> c.allReduceSum(null, new float[1], 0, 1));
        comm.start();
        comm.join();
        long counted = c.takeOffThreadNanos();
        assertTrue(counted >= TimeUnit.MILLISECONDS.toNanos(20), counted + " ns");
        assertEquals(0, c.takeOffThreadNanos(), "taking the count resets it");
    }
}
