package org.clmr.coordinator;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

/**
 * One coordinator per run directory: {@value #FILE} in the run directory, locked (an OS file lock, released
 * when the process dies however it dies) by the coordinator node that owns the directory, and naming it (PID,
 * host, cluster address, start time). A second coordinator on the same directory is refused at start with
 * one line naming the first, unless it joins the first one's cluster (its seed nodes name the holder's
 * address): then it is a standby that takes the singleton over when the holder leaves, and it holds no lock.
 *
 * <p>Only the coordinator opens its embedded H2 database: {@link #requireH2Closed} refuses to start when
 * another process (a worker that opened the file while no coordinator ran, or a coordinator of another run
 * directory pointed at it) holds the file. Used by {@link CoordinatorNode#start} on the calling thread.
 */
public final class RunDirLock implements AutoCloseable {
    /** The lock file's name in the run directory. */
    public static final String FILE = "coordinator.lock";

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private RunDirLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the run directory for this process.
     *
     * @param seedNodes this node's seed nodes: naming the holder's address makes this node its standby
     * @return the lock, or null for a standby of the holder
     * @throws UserError when another coordinator holds the directory and this node does not join it
     */
    public static RunDirLock acquire(Path runDir, List<String> seedNodes) {
        Path file = runDir.toAbsolutePath().resolve(FILE);
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UserError("cannot open " + file + " to lock the run directory: " + e.getMessage()
                    + "; check that the directory is writable");
        }
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;  // a node of this JVM holds it
        } catch (IOException e) {
            close(ch);
            throw new UserError("cannot lock " + file + ": " + e.getMessage() + "; check the run directory's file system");
        }
        if (lock == null) {
            close(ch);
            Properties holder = read(file);
            String address = holder.getProperty("cluster", "");
            if (!address.isEmpty() && seedNodes.contains(address)) {
                return null;
            }
            throw new UserError("run dir " + runDir + " is in use by coordinator PID " + holder.getProperty("pid", "?")
                    + " on host " + holder.getProperty("host", "?") + (address.isEmpty() ? "" : " (" + address + ")")
                    + ": stop it first, give this coordinator another --run-dir, or start it as a standby with"
                    + " coordinator.cluster.seed-nodes = [\"" + (address.isEmpty() ? "akka://clmr@HOST:PORT" : address)
                    + "\"]");
        }
        RunDirLock taken = new RunDirLock(file, ch, lock);
        taken.write("");
        return taken;
    }

    /** Records this node's cluster address in the lock file (a standby names it in its seed nodes). */
    public void announce(String clusterAddress) {
        write(clusterAddress);
    }

    private void write(String clusterAddress) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        String text = "pid=" + ProcessHandle.current().pid() + "\nhost=" + host + "\ncluster=" + clusterAddress
                + "\nstarted=" + Instant.now() + "\n";
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
        } catch (IOException e) {
            throw new UserError("cannot write " + file + ": " + e.getMessage() + "; check the run directory");
        }
    }

    private static Properties read(Path file) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException | IllegalArgumentException e) {
            // the holder is still writing it, or it is not ours: the refusal names what is known
        }
        return p;
    }

    /**
     * Refuses to start when another process has the run directory's H2 database open. H2 holds an OS lock on the
     * whole {@code .mv.db} file while it has it open (with {@code AUTO_SERVER} too), so a lock that cannot be taken
     * here names another holder; taken and released at once, without opening the database (an H2 close
     * compacts the file, a few hundred milliseconds of every coordinator start).
     *
     * @param h2Url the coordinator's own URL ({@code jdbc:h2:file:PATH;SETTINGS})
     */
    public static void requireH2Closed(Path runDir, String h2Url) {
        String base = h2Url.split(";", 2)[0].substring("jdbc:h2:file:".length());
        Path file = Path.of(base + ".mv.db");
        if (!Files.exists(file)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            FileLock free = ch.tryLock();
            if (free != null) {
                free.release();
                return;
            }
        } catch (OverlappingFileLockException e) {
            return;  // this JVM has it open (H2 shares an open database within a process)
        } catch (IOException e) {
            return;  // unreadable or not ours: reported, with the URL, when the journal is prepared
        }
        Properties h2 = read(Path.of(base + ".lock.db"));
        throw new UserError("run dir " + runDir + ": its H2 database is open in another process"
                + (h2.getProperty("server") == null ? "" : " (H2 server at " + h2.getProperty("server") + ")")
                + "; only the coordinator may open it: stop that process (a worker that opened the file while no"
                + " coordinator ran, or a coordinator of another run directory), then start this one again");
    }

    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException e) {
            // the channel's close below releases it too
        }
        close(channel);
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing held is left to release
        }
    }
}
