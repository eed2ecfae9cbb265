package org.clmr.data.prepare;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Progress of a long loop: a progress bar on a terminal ({@code System.console() != null}), otherwise
 * an INFO log line every {@code interval}. Used from one thread.
 */
public final class Progress implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Progress.class);

    private final String task;
    private final long total;
    private final long intervalNanos;
    private final ProgressBar bar;
    private final long started = System.nanoTime();
    private long lastLog = started;
    private long done;

    private Progress(String task, long total, Duration interval, boolean terminal) {
        this.task = task;
        this.total = total;
        this.intervalNanos = interval.toNanos();
        this.bar = terminal ? new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).build() : null;
    }

    /** Starts reporting on a task of {@code total} units. */
    public static Progress start(String task, long total, Duration interval) {
        return new Progress(task, total, interval, System.console() != null);
    }

    /** One unit done. */
    public void step() {
        done++;
        if (bar != null) {
            bar.step();
            return;
        }
        long now = System.nanoTime();
        if (now - lastLog >= intervalNanos) {
            lastLog = now;
            LOG.info("{}: {}/{} ({}%, {} s)", task, done, total, total == 0 ? 100 : 100 * done / total,
                    (now - started) / 1_000_000_000L);
        }
    }

    /** Units done. */
    public long done() {
        return done;
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
