package org.clmr.data.audio;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * RIFF/WAVE files: reads PCM 8/16/24/32-bit and IEEE float 32/64 (any channel count, mixed down to mono)
 * and writes mono 16-bit PCM. Samples are floats in [-1, 1].
 */
public final class Wav {

    /** Decoded audio: mono samples and their rate. */
    public record Audio(float[] samples, int sampleRate) {
        public double seconds() {
            return samples.length / (double) sampleRate;
        }
    }

    /** The format chunk of a file, without its samples. */
    public record Format(int formatTag, int channels, int sampleRate, int bitsPerSample) {
        /** True for plain 16-bit PCM. */
        public boolean isPcm16() {
            return formatTag == 1 && bitsPerSample == 16;
        }
    }

    private static final int PCM = 1;
    private static final int IEEE_FLOAT = 3;
    private static final int EXTENSIBLE = 0xFFFE;

    private Wav() {
    }

    /** Reads a WAV file, mixing channels down to mono. */
    public static Audio read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + e.getMessage());
        }
        return decode(bytes, file.toString());
    }

    /**
     * Decodes WAV bytes; {@code name} goes into error messages. Any bytes end in audio or in a one-line
     * {@link UserError}: chunk sizes are checked against the bytes, and the samples are finite.
     */
    public static Audio decode(byte[] bytes, String name) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Format fmt = null;
        if (bytes.length < 12 || b.getInt(0) != 0x46464952 || b.getInt(8) != 0x45564157) {
            throw new UserError(name + " is not a RIFF/WAVE file; convert it with ffmpeg -i IN -ar RATE OUT.wav");
        }
        long pos = 12;
        while (pos + 8 <= bytes.length) {
            int at = (int) pos;
            int id = b.getInt(at);
            long size = b.getInt(at + 4) & 0xFFFFFFFFL;
            int body = at + 8;
            if (id == 0x20746d66) { // "fmt "
                if (fmt != null) {  // which one the samples follow is anyone's guess (format() reads the first)
                    throw new UserError(name + ": two fmt chunks; the header is damaged, re-encode it with ffmpeg");
                }
                fmt = fmt(b, body, size, bytes.length, name);
            } else if (id == 0x61746164) { // "data"
                if (fmt == null) {
                    throw new UserError(name + ": data chunk before fmt chunk; re-encode it with ffmpeg");
                }
                long avail = Math.min(size, bytes.length - (long) body);
                return new Audio(samples(b, body, (int) avail, fmt, name), fmt.sampleRate());
            }
            pos = body + size + (size & 1); // a long: a size near 4 GiB must not wrap back onto this chunk
        }
        throw new UserError(name + ": no data chunk; the file is truncated or not audio");
    }

    private static Format fmt(ByteBuffer b, int body, long size, int length, String name) {
        if (size < 16 || body + 16L > length) {
            throw new UserError(name + ": fmt chunk of " + size + " bytes is too short or truncated; re-encode it with ffmpeg");
        }
        int tag = b.getShort(body) & 0xFFFF;
        if (tag == EXTENSIBLE && size >= 26 && body + 26L <= length) {
            tag = b.getShort(body + 24) & 0xFFFF;
        }
        Format f = new Format(tag, b.getShort(body + 2) & 0xFFFF, b.getInt(body + 4), b.getShort(body + 14) & 0xFFFF);
        if (f.sampleRate() <= 0) {
            throw new UserError(name + ": sample rate " + f.sampleRate() + " Hz is not positive; the header is damaged");
        }
        return f;
    }

    /** The format of a WAV file (reads only its header chunks). */
    public static Format format(Path file) {
        try {
            byte[] head;
            try (var in = Files.newInputStream(file)) {
                head = in.readNBytes(4096);
            }
            ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
            if (head.length < 12 || b.getInt(0) != 0x46464952 || b.getInt(8) != 0x45564157) {
                throw new UserError(file + " is not a RIFF/WAVE file");
            }
            long pos = 12;
            while (pos + 24 <= head.length) {
                int at = (int) pos;
                int id = b.getInt(at);
                long size = b.getInt(at + 4) & 0xFFFFFFFFL;
                if (id == 0x20746d66) {
                    return fmt(b, at + 8, size, head.length, file.toString());
                }
                pos += 8 + size + (size & 1);
            }
            throw new UserError(file + ": no fmt chunk in the first 4 KiB");
        } catch (IOException e) {
            throw new UserError("cannot read " + file + ": " + e.getMessage());
        }
    }

    private static float[] samples(ByteBuffer b, int start, int length, Format f, String name) {
        int bytesPerSample = f.bitsPerSample() / 8;
        if (f.channels() < 1 || bytesPerSample < 1 || f.bitsPerSample() % 8 != 0) {
            throw new UserError(name + ": " + f.channels() + " channels of " + f.bitsPerSample() + " bits is not audio");
        }
        boolean ok = (f.formatTag() == PCM && bytesPerSample <= 4)
                || (f.formatTag() == IEEE_FLOAT && (bytesPerSample == 4 || bytesPerSample == 8));
        if (!ok) {
            throw new UserError(name + ": WAV format " + f.formatTag() + " with " + f.bitsPerSample()
                    + " bits is not supported; convert it with ffmpeg -i IN -c:a pcm_s16le OUT.wav");
        }
        int frame = bytesPerSample * f.channels();
        int frames = length / frame;
        float[] out = new float[frames];
        for (int i = 0; i < frames; i++) {
            double sum = 0;
            int p = start + i * frame;
            for (int c = 0; c < f.channels(); c++, p += bytesPerSample) {
                sum += sample(b, p, bytesPerSample, f.formatTag());
            }
            out[i] = (float) (sum / f.channels());
            if (!Float.isFinite(out[i])) {
                throw new UserError(name + ": sample " + i + " is " + out[i] + ", not a finite value; the file is damaged");
            }
        }
        return out;
    }

    private static double sample(ByteBuffer b, int p, int bytes, int tag) {
        if (tag == IEEE_FLOAT) {
            return bytes == 4 ? b.getFloat(p) : b.getDouble(p);
        }
        switch (bytes) {
            case 1: return ((b.get(p) & 0xFF) - 128) / 128.0;
            case 2: return b.getShort(p) / 32768.0;
            case 3: return (((b.get(p + 2) << 16) | ((b.get(p + 1) & 0xFF) << 8) | (b.get(p) & 0xFF))) / 8388608.0;
            default: return b.getInt(p) / 2147483648.0;
        }
    }

    /** Float in [-1, 1] to 16-bit PCM, rounded and clipped. */
    public static short toPcm16(float x) {
        float s = Math.round(x * 32768f);
        return (short) Math.max(-32768f, Math.min(32767f, s));
    }

    /** Writes mono 16-bit PCM, atomically (a temporary file renamed into place). */
    public static void writePcm16(Path file, float[] samples, int sampleRate) {
        ByteBuffer b = ByteBuffer.allocate(44 + samples.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46464952).putInt(36 + samples.length * 2).putInt(0x45564157);
        b.putInt(0x20746d66).putInt(16).putShort((short) PCM).putShort((short) 1).putInt(sampleRate)
                .putInt(sampleRate * 2).putShort((short) 2).putShort((short) 16);
        b.putInt(0x61746164).putInt(samples.length * 2);
        for (float s : samples) {
            b.putShort(toPcm16(s));
        }
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, "." + file.getFileName(), ".tmp");
            Files.write(tmp, b.array());
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UserError("cannot write " + file + ": " + e.getMessage());
        }
    }
}
