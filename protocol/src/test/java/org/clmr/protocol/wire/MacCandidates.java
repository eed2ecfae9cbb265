package org.clmr.protocol.wire;

import org.agrona.concurrent.UnsafeBuffer;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * The measurement behind {@link FrameMac}'s choice (not a test): each authenticator of the JDK that could sign a
 * collective frame, on one off-heap frame (as in an Aeron log) of each size, one thread: microseconds and GB/s per
 * frame (the fastest of the rounds, the candidates interleaved round by round so that all see the same load) and
 * heap bytes allocated per frame. CRC32C is the floor. After {@code mvn -o -q test-compile -pl protocol -am}, run
 * {@code java -cp protocol/target/classes:protocol/target/test-classes:AGRONA_JAR org.clmr.protocol.wire.MacCandidates
 * [payloadBytes ...]} (AGRONA_JAR: Agrona's jar from the local Maven repository); docs/collectives.md has the figures.
 */
public final class MacCandidates {
    private static final String[] NAMES = {"crc32c (floor)", "hmac-sha256 (FrameMac)", "hmac-sha512",
        "aes-gmac (aad only)", "aes-gcm encrypt", "aes-gcm decrypt", "chacha20-poly1305 (aad)"};

    private interface Candidate {
        void frame(long n) throws Exception;
    }

    private MacCandidates() {
    }

    public static void main(String[] args) throws Exception {
        int[] sizes = args.length == 0 ? new int[] {4096, 65440} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        System.out.printf(Locale.ROOT, "%s, %s, %d CPUs, load average %.2f%n", System.getProperty("java.vm.name"),
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        for (int size : sizes) {
            measure(size);
        }
    }

    private static void measure(int payload) throws Exception {
        int frame = FrameFlyweight.HEADER_LENGTH + payload;
        Candidate[] candidates = candidates(payload);
        long iterations = Math.max(500, 100_000_000L / frame);
        double[] best = new double[candidates.length];
        long[] allocated = new long[candidates.length];
        Arrays.fill(best, Double.MAX_VALUE);
        for (int round = -1; round < 5; round++) {
            for (int c = 0; c < candidates.length; c++) {
                long a0 = allocatedBytes();
                long t0 = System.nanoTime();
                for (long i = 0; i < iterations; i++) {
                    candidates[c].frame(round * iterations + i + 1_000_000_000L);
                }
                double ns = (double) (System.nanoTime() - t0) / iterations;
                if (round >= 0) {
                    best[c] = Math.min(best[c], ns);
                    allocated[c] = (allocatedBytes() - a0) / iterations;
                }
            }
        }
        System.out.printf(Locale.ROOT, "frame of %d bytes (48-byte header + %d payload):%n", frame, payload);
        for (int c = 0; c < candidates.length; c++) {
            System.out.printf(Locale.ROOT, "  %-26s %9.2f us %7.2f GB/s %7d B allocated per frame%n", NAMES[c],
                    best[c] / 1e3, frame / best[c], allocated[c]);
        }
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /** One authenticator per name of {@link #NAMES}, each signing the same frame; nonces differ per frame. */
    private static Candidate[] candidates(int payload) throws Exception {
        int frame = FrameFlyweight.HEADER_LENGTH + payload;
        ByteBuffer direct = ByteBuffer.allocateDirect(frame + 64);
        UnsafeBuffer buffer = new UnsafeBuffer(direct);
        FrameFlyweight f = new FrameFlyweight().wrap(buffer, 0);
        f.runId(1).generation(2).step(3).opSequence(4).opKind(OpKind.ALL_REDUCE_RING_F32).phase(0).sourceRank(1)
                .chunkIndex(0).chunkCount(1).payloadLength(payload);
        for (int i = 0; i < payload; i++) {
            buffer.putByte(f.payloadOffset() + i, (byte) (i * 31));
        }
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        FrameMac frameMac = FrameMac.of(FrameKey.of(k));
        Mac sha512 = Mac.getInstance("HmacSHA512");
        sha512.init(new SecretKeySpec(k, "HmacSHA512"));
        SecretKeySpec aes = new SecretKeySpec(k, 0, 16, "AES");
        Cipher gmac = Cipher.getInstance("AES/GCM/NoPadding");
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        Cipher chacha = Cipher.getInstance("ChaCha20-Poly1305");
        SecretKeySpec chachaKey = new SecretKeySpec(k, "ChaCha20");
        byte[] tag = new byte[64];
        byte[] iv = new byte[12];
        CRC32C crc = new CRC32C();
        ByteBuffer out = ByteBuffer.allocateDirect(frame + 64);
        ByteBuffer sealed = sealedFrame(aes, direct, payload);
        Cipher opener = Cipher.getInstance("AES/GCM/NoPadding");
        return new Candidate[] {
            n -> {
                crc.reset();
                crc.update(direct.clear().position(FrameFlyweight.HEADER_LENGTH).limit(frame));
            },
            n -> frameMac.sign(f, 0),
            n -> {
                sha512.update(direct.clear().limit(frame));
                sha512.doFinal(tag, 0);
            },
            n -> {
                gmac.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, nonce(iv, n)));
                gmac.updateAAD(direct.clear().limit(frame));
                gmac.doFinal(tag, 0);
            },
            n -> {
                gcm.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, nonce(iv, n)));
                gcm.updateAAD(direct.clear().limit(FrameFlyweight.HEADER_LENGTH));
                gcm.doFinal(direct.limit(frame).position(FrameFlyweight.HEADER_LENGTH), out.clear());
            },
            n -> {
                opener.init(Cipher.DECRYPT_MODE, aes, new GCMParameterSpec(128, new byte[12]));
                opener.updateAAD(direct.clear().limit(FrameFlyweight.HEADER_LENGTH));
                opener.doFinal(sealed.clear(), out.clear());
            },
            n -> {
                chacha.init(Cipher.ENCRYPT_MODE, chachaKey, new IvParameterSpec(nonce(iv, n)));
                chacha.updateAAD(direct.clear().limit(frame));
                chacha.doFinal(tag, 0);
            },
        };
    }

    /** The payload of {@code direct} encrypted under a zero nonce with its header as associated data, tag appended. */
    private static ByteBuffer sealedFrame(SecretKeySpec aes, ByteBuffer direct, int payload) throws Exception {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, aes, new GCMParameterSpec(128, new byte[12]));
        c.updateAAD(direct.clear().limit(FrameFlyweight.HEADER_LENGTH));
        ByteBuffer sealed = ByteBuffer.allocateDirect(payload + 16);
        c.doFinal(direct.limit(FrameFlyweight.HEADER_LENGTH + payload).position(FrameFlyweight.HEADER_LENGTH), sealed);
        return sealed;
    }

    private static byte[] nonce(byte[] iv, long n) {
        for (int i = 0; i < 8; i++) {
            iv[i] = (byte) (n >>> (8 * i));
        }
        return iv;
    }
}
