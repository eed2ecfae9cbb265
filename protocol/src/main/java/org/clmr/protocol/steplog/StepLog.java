package org.clmr.protocol.steplog;

import org.clmr.protocol.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A run's per-step training log: {@code RUN_DIR/steps-RUN_ID.csv}, a header ({@link StepRow#HEADER}) and one
 * row per step in step order, appended as steps complete and kept across resumes. A step written again (a
 * resumed run recomputes the steps after its checkpoint) replaces its row and every row after it, so the file
 * never holds a step twice and, once the run is past them again, holds every step once. Rows go to the file
 * as they are written (no buffer to lose with the process); a line torn by a crash is cut off when the log is
 * opened again. Not thread-safe: one writer thread at a time (the training thread, or the coordinator actor).
 */
public final class StepLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StepLog.class);
    private static final byte[] HEADER_LINE = (StepRow.HEADER + "\n").getBytes(StandardCharsets.UTF_8);
    private static final int WINDOW = 64 * 1024;

    private final Path file;
    private FileChannel channel;
    private long lastStep;
    private long lastGeneration = -1;

    private StepLog(Path file) {
        this.file = file;
    }

    /** The step log of run {@code runId} in {@code runDir} (characters a file name cannot hold read as {@code _}). */
    public static Path fileFor(Path runDir, String runId) {
        return runDir.resolve("steps-" + runId.replaceAll("[^A-Za-z0-9._-]", "_") + ".csv");
    }

    /**
     * Opens (or creates) a step log to append to. A file that is not a step log of this format is moved aside
     * (to {@code NAME.unrecognised-MILLIS}) and a new one started, so nothing is lost and training goes on.
     */
    public static StepLog open(Path file) throws IOException {
        StepLog log = new StepLog(file);
        log.reopen();
        return log;
    }

    /** The log's file. */
    public Path file() {
        return file;
    }

    /** The newest step in the file (0: none). */
    public long lastStep() {
        return lastStep;
    }

    /** The generation of the newest row (-1: none). */
    public long lastGeneration() {
        return lastGeneration;
    }

    /**
     * Writes a step's row: appended when it is newer than every row, else it replaces the row of its step and
     * every row after it. After an I/O failure the next write opens the file again (cutting a torn line).
     */
    public void write(StepRow row) throws IOException {
        if (channel == null) {
            reopen();
        }
        try {
            long size = channel.size();
            long at = row.step() > lastStep ? size : offsetOf(row.step(), size);
            if (at < size) {
                channel.truncate(at);
            }
            ByteBuffer line = ByteBuffer.wrap((row.toCsv() + "\n").getBytes(StandardCharsets.UTF_8));
            while (line.hasRemaining()) {
                at += channel.write(line, at);
            }
            lastStep = row.step();
            lastGeneration = row.generation();
        } catch (IOException e) {
            closeQuietly();
            throw e;
        }
    }

    @Override
    public void close() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    // ------------------------------------------------------------------ reading

    /** Every row of a step log, in file order. */
    public static List<StepRow> read(Path file) {
        List<StepRow> rows = new ArrayList<>();
        scan(file, rows::add);
        return rows;
    }

    /**
     * Hands every row of a step log to {@code sink}, in file order, without holding the file in memory; a last
     * line without its line break (a write torn by a crash) is left out.
     *
     * @throws UserError when the file is missing, unreadable or not a step log (naming the file and line)
     */
    public static void scan(Path file, Consumer<StepRow> sink) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            boolean torn = !endsWithNewline(file);
            String header = in.readLine();
            if (!StepRow.HEADER.equals(header)) {
                throw new UserError(file + " is not a clmr step log: its header is " + header + ", expected "
                        + StepRow.HEADER);
            }
            String line = in.readLine();
            int number = 1;
            while (line != null) {
                number++;
                String next = in.readLine();
                if (next != null || !torn) {
                    try {
                        sink.accept(StepRow.parse(line, file + " line " + number));
                    } catch (IllegalArgumentException e) {
                        throw new UserError(e.getMessage());
                    }
                }
                line = next;
            }
        } catch (IOException e) {
            throw new UserError("cannot read the step log " + file + ": " + e.getMessage());
        }
    }

    private static boolean endsWithNewline(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            if (f.length() == 0) {
                return true;
            }
            f.seek(f.length() - 1);
            return f.read() == '\n';
        }
    }

    // ------------------------------------------------------------------ the file's tail

    private void reopen() throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (Files.exists(file) && Files.size(file) > 0 && !hasHeader()) {
            Path aside = file.resolveSibling(file.getFileName() + ".unrecognised-" + System.currentTimeMillis());
            Files.move(file, aside);
            LOG.warn("{} is not a step log of this build (its header differs): moved to {}, starting a new one", file,
                    aside);
        }
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            if (channel.size() == 0) {
                channel.write(ByteBuffer.wrap(HEADER_LINE), 0);
            }
            long end = lastLineEnd(channel.size());
            if (end < channel.size()) {
                LOG.warn("{}: cut a torn last line ({} bytes)", file, channel.size() - end);
                channel.truncate(end);
            }
            String last = lastLine(end);
            lastStep = Math.max(0, StepRow.stepOf(last));
            lastGeneration = lastStep == 0 ? -1 : StepRow.parse(last, file + " (last row)").generation();
        } catch (IOException | IllegalArgumentException e) {
            closeQuietly();
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    private boolean hasHeader() throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return StepRow.HEADER.equals(in.readLine());
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    /** The end of the last complete line (just past its line break). */
    private long lastLineEnd(long size) throws IOException {
        long end = size;
        while (end > HEADER_LINE.length) {
            long from = Math.max(HEADER_LINE.length, end - WINDOW);
            byte[] bytes = readAt(from, (int) (end - from));
            for (int i = bytes.length - 1; i >= 0; i--) {
                if (bytes[i] == '\n') {
                    return from + i + 1;
                }
            }
            end = from;
        }
        return HEADER_LINE.length;
    }

    /** The last line before {@code end} (a line end), the header when there is no row. */
    private String lastLine(long end) throws IOException {
        if (end <= HEADER_LINE.length) {
            return StepRow.HEADER;
        }
        long from = end;
        byte[] tail = new byte[0];
        while (from > 0) {
            long start = Math.max(0, from - 4096);
            byte[] chunk = readAt(start, (int) (from - start));
            byte[] joined = new byte[chunk.length + tail.length];
            System.arraycopy(chunk, 0, joined, 0, chunk.length);
            System.arraycopy(tail, 0, joined, chunk.length, tail.length);
            tail = joined;
            for (int i = tail.length - 2; i >= 0; i--) {
                if (tail[i] == '\n') {
                    return new String(tail, i + 1, tail.length - i - 2, StandardCharsets.UTF_8);
                }
            }
            from = start;
        }
        return new String(tail, 0, tail.length - 1, StandardCharsets.UTF_8);
    }

    /**
     * Where the row of {@code step} begins, or where it would: just after the last row of an earlier step (rows
     * are in step order). Reads backwards from the end in growing windows, so a resume near the end reads little.
     */
    private long offsetOf(long step, long size) throws IOException {
        long window = WINDOW;
        while (true) {
            long from = Math.max(HEADER_LINE.length, size - window);
            byte[] bytes = readAt(from, (int) (size - from));
            int lineEnd = bytes.length;
            for (int i = bytes.length - 2; i >= -1; i--) {
                if (i >= 0 && bytes[i] != '\n') {
                    continue;
                }
                if (i < 0 && from > HEADER_LINE.length) {
                    break;  // this line may begin before the window: read a larger one
                }
                String line = new String(bytes, i + 1, lineEnd - i - 2, StandardCharsets.UTF_8);
                if (StepRow.stepOf(line) < step) {
                    return from + lineEnd;
                }
                lineEnd = i + 1;
            }
            if (from == HEADER_LINE.length) {
                return HEADER_LINE.length;
            }
            window *= 2;
        }
    }

    private byte[] readAt(long position, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (channel.read(b, position + b.position()) < 0) {
                throw new IOException(file + " ended at byte " + (position + b.position()) + " while reading it back");
            }
        }
        return b.array();
    }

    private void closeQuietly() {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // the channel is being dropped after a failure that is reported already
        }
        channel = null;
    }
}
