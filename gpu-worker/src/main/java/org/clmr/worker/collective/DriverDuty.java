package org.clmr.worker.collective;

import org.agrona.concurrent.AgentInvoker;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Who runs an embedded media driver's duty cycle (conductor, sender and receiver, in Aeron's INVOKER
 * mode): the training thread itself while it waits inside a collective, a keeper thread the rest of the
 * time (heartbeats, status messages, commands). Handing a frame to the network and taking one off it
 * then costs no thread hand-off, which on a busy host is the difference between microseconds and a
 * scheduler time slice. A lock makes sure only one thread invokes the driver at a time.
 */
final class DriverDuty implements AutoCloseable {
    private final AgentInvoker invoker;
    private final ReentrantLock lock = new ReentrantLock();
    private final Thread keeper;
    private volatile boolean running = true;

    DriverDuty(AgentInvoker invoker, long maxParkNs) {
        this.invoker = invoker;
        this.keeper = new Thread(() -> keep(maxParkNs), "clmr-aeron-driver-keeper");
        keeper.setDaemon(true);
        keeper.start();
    }

    private void keep(long maxParkNs) {
        IdleStrategy idle = new BackoffIdleStrategy(10, 10, TimeUnit.MICROSECONDS.toNanos(10), Math.max(maxParkNs,
                TimeUnit.MICROSECONDS.toNanos(200)));
        while (running) {
            int work = 0;
            if (lock.tryLock()) {
                try {
                    work = invoker.invoke();
                } finally {
                    lock.unlock();
                }
            }
            idle.idle(work);
        }
    }

    /** Takes the duty for the calling thread (a collective's phase); waits for the keeper's cycle to end. */
    void acquire() {
        lock.lock();
    }

    void release() {
        lock.unlock();
    }

    /** One duty cycle; only while {@link #acquire() acquired}. */
    int invoke() {
        return invoker.invoke();
    }

    @Override
    public void close() {
        running = false;
        try {
            keeper.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
