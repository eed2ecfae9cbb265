package org.clmr.data.prepare;

import org.clmr.data.audio.Ffmpeg;
import org.clmr.data.audio.Wav;
import org.clmr.data.dataset.DatasetIndex;
import org.clmr.data.dataset.PackedDatasetWriter;
import org.clmr.data.dataset.Skipped;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code clmr prepare}: lists an input ({@link InputFormat}), decodes every file on {@code jobs} threads
 * (16-bit PCM WAV already at the rate is read directly, everything else goes through {@link Ffmpeg}),
 * skips what is empty, corrupt, too short or not audio with the reason, and writes a packed dataset
 * ({@link PackedDatasetWriter}). The output does not depend on the number of jobs.
 */
public final class Preparer {
    private static final Logger LOG = LoggerFactory.getLogger(Preparer.class);

    /**
     * What to prepare.
     *
     * @param input            folder, CSV file or MagnaTagATune folder
     * @param format           how to read it
     * @param out              the dataset directory to create
     * @param sampleRate       Hz
     * @param jobs             decoding threads
     * @param minSeconds       shorter tracks are skipped
     * @param replace          replace an existing dataset at {@code out}
     * @param ffmpeg           the ffmpeg executable
     * @param progressInterval log interval when not on a terminal
     */
    public record Options(Path input, InputFormat format, Path out, int sampleRate, int jobs, double minSeconds,
                          boolean replace, String ffmpeg, Duration progressInterval) {
    }

    private record Decoded(SourceTrack track, ByteBuffer pcm, String skipReason) {
    }

    private Preparer() {
    }

    /** Runs a prepare; returns the index of the dataset it wrote. */
    public static DatasetIndex run(Options o) {
        long t0 = System.nanoTime();
        if (!Files.exists(o.input())) {
            throw new UserError("--input " + o.input() + " does not exist; give a folder, a CSV file or a MagnaTagATune folder");
        }
        Ffmpeg ffmpeg = new Ffmpeg(o.ffmpeg());
        ffmpeg.require();
        Listing listing = o.format().list(o.input());
        LOG.info("prepare {} ({}): {} files to decode, {} left out by the listing, {} jobs, {} Hz",
                o.input(), o.format().name().toLowerCase(Locale.ROOT), listing.tracks().size(), listing.skipped().size(),
                o.jobs(), o.sampleRate());
        Map<String, String> provenance = new LinkedHashMap<>();
        provenance.put("input", o.input().toAbsolutePath().toString());
        provenance.put("inputFormat", o.format().name().toLowerCase(Locale.ROOT));
        provenance.put("createdBy", "clmr " + BuildInfo.version());
        try (PackedDatasetWriter w = new PackedDatasetWriter(o.out(), o.sampleRate(), listing.tags(), provenance, o.replace());
             Progress progress = Progress.start("prepare", listing.tracks().size(), o.progressInterval())) {
            for (Skipped s : listing.skipped()) {
                w.skip(s.source(), s.reason());
            }
            InOrder.map(listing.tracks().size(), o.jobs(), i -> decode(listing.tracks().get(i), o, ffmpeg), d -> {
                if (d.skipReason() != null) {
                    w.skip(d.track().file().toString(), d.skipReason());
                } else {
                    SourceTrack t = d.track();
                    w.addPcm16(t.id(), t.file().toString(), d.pcm(), t.tags(), t.split(), t.song());
                }
                progress.step();
            });
            Map<String, Object> extras = new LinkedHashMap<>();
            extras.put("input", o.input().toAbsolutePath().toString());
            extras.put("inputFormat", o.format().name().toLowerCase(Locale.ROOT));
            extras.put("minSeconds", o.minSeconds());
            extras.put("jobs", o.jobs());
            extras.put("elapsedSeconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
            DatasetIndex index = w.commit(extras);
            LOG.info("prepared {}: {} tracks, {} skipped, content hash {}", o.out(), index.tracks().size(),
                    index.skipped().size(), index.contentHash());
            return index;
        }
    }

    private static Decoded decode(SourceTrack t, Options o, Ffmpeg ffmpeg) {
        Path f = t.file();
        try {
            if (Files.size(f) == 0) {
                return new Decoded(t, null, "empty file (0 bytes)");
            }
        } catch (IOException e) {
            return new Decoded(t, null, "cannot read it: " + e.getMessage());
        }
        ByteBuffer pcm = direct(f, o.sampleRate());
        if (pcm == null) {
            Ffmpeg.Result r = ffmpeg.decode(f, o.sampleRate());
            if (!r.ok()) {
                return new Decoded(t, null, r.error());
            }
            pcm = ByteBuffer.wrap(r.pcm16le()).order(ByteOrder.LITTLE_ENDIAN);
        }
        int samples = pcm.remaining() / 2;
        if (samples == 0) {
            return new Decoded(t, null, "no audio samples decoded (empty or not audio)");
        }
        double seconds = samples / (double) o.sampleRate();
        if (seconds < o.minSeconds()) {
            return new Decoded(t, null, String.format(Locale.ROOT,
                    "too short: %.2f s < minimum %.2f s (clmr.data.prepare.min-seconds)", seconds, o.minSeconds()));
        }
        return new Decoded(t, pcm, null);
    }

    /** Mono 16-bit PCM WAV at the rate: its samples as they are; anything else: null (ffmpeg decodes it). */
    private static ByteBuffer direct(Path f, int sampleRate) {
        if (!f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".wav")) {
            return null;
        }
        try {
            Wav.Format fmt = Wav.format(f);
            if (!fmt.isPcm16() || fmt.channels() != 1 || fmt.sampleRate() != sampleRate) {
                return null;
            }
            float[] x = Wav.read(f).samples();
            ByteBuffer b = ByteBuffer.allocate(2 * x.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : x) {
                b.putShort(Wav.toPcm16(v));
            }
            return b.flip();
        } catch (UserError e) {
            return null;
        }
    }
}
