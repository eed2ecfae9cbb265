package org.clmr.ops.driver;

import com.typesafe.config.Config;
import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import org.clmr.ops.ConfigOptions;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code clmr driver [--dir DIR]}: this host's stand-alone Aeron media driver, which every worker process
 * of the host shares over {@code aeron:ipc} ({@code clmr.worker.aeron.driver = external},
 * {@code driver-dir = DIR}, {@code transport = ipc}). Its term length, MTU, socket buffers and liveness
 * timeouts come from {@code clmr.worker.aeron}. Runs until stopped (SIGTERM / Ctrl-C), then closes the
 * driver and removes its directory. A directory whose driver is alive is refused in one line; a stale
 * one (its driver was killed) is replaced, and said so in one line.
 */
@Command(name = "driver", mixinStandardHelpOptions = true,
        description = "Run this host's Aeron media driver, shared by its workers over aeron:ipc, until stopped.")
public final class DriverCommand implements Callable<Integer> {
    /** The line printed once the driver runs, followed by its directory. */
    public static final String UP = "aeron driver up in ";

    @Mixin
    ConfigOptions options;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dir", paramLabel = "DIR",
            description = "Driver directory (default: clmr.worker.aeron.driver-dir, else Aeron's default, /dev/shm/aeron-USER)")
    String dir;

    @Override
    public Integer call() throws Exception {
        Config config = options.load();
        AeronSettings settings = AeronSettings.from(config);
        String where = dir != null ? dir : !settings.driverDir().isEmpty() ? settings.driverDir()
                : CommonContext.getAeronDirectoryName();
        PrintWriter out = spec.commandLine().getOut();
        String stale = AeronTransport.staleDriver(where, settings.livenessTimeout().toMillis());
        MediaDriver driver = AeronTransport.launchDriver(settings, where);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            driver.close();
            stopped.countDown();
        }, "clmr-driver-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        if (stale != null) {
            out.println("replaced the stale driver directory " + where + " (" + stale + ")");
        }
        out.println(UP + where + " (pid " + ProcessHandle.current().pid() + "); workers of this host use it with"
                + " --set worker.aeron.driver=external --set worker.aeron.driver-dir=" + where
                + " --set worker.aeron.transport=ipc");
        out.flush();
        stopped.await();
        return 0;
    }
}
