package org.clmr.protocol.wire;

import org.agrona.DirectBuffer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;

/**
 * Signs and checks the MAC trailer of collective frames under one generation's {@link FrameKey}: HMAC-SHA256 of
 * the JDK ({@code javax.crypto.Mac}, SHA-NI and AVX2 intrinsics), truncated to its first
 * {@link FrameFlyweight#MAC_LENGTH} bytes (RFC 2104 section 5), over the receiver's rank and the frame's header
 * and payload, as {@link FrameFlyweight} lays out. Without a key ({@link FrameKey#NONE}) frames have no trailer,
 * {@link #sign} does nothing and {@link #verify} passes every frame.
 *
 * <p>Why HMAC-SHA256: measured against AES-GMAC, AES-GCM and ChaCha20-Poly1305 of the same JDK on frames of 4 KB
 * and 64 KB ({@code MacCandidates} in the tests), it is the one that allocates (almost) nothing per frame: a
 * {@code Mac} is reused, while every {@code Cipher} needs a fresh parameter object and engine state per nonce
 * (3 KB per frame) and GMAC buffers its associated data (twice the frame). HMAC needs no nonce, so no frame can
 * reuse one; the MAC still differs for every operation, step, chunk, sender and receiver because all of them are
 * inside the MAC, and every generation has its own key.
 *
 * <p>Not thread safe: one per collective, used by the thread running its operations. Nothing allocated here per
 * frame; the JDK's {@code Mac.doFinal} allocates its 32-byte result (48 bytes of heap) per call, which no
 * {@code javax.crypto} MAC of JDK 17 avoids.
 */
public final class FrameMac {
    /** The JDK's name of the MAC. */
    public static final String ALGORITHM = "HmacSHA256";

    private final Mac mac;
    private final byte[] full;
    private final byte[] receiver = new byte[4];
    /** The MAC as {@link DirectBytes}' sink, made once. */
    private final DirectBytes.Sink sink;

    private FrameMac(Mac mac) {
        this.mac = mac;
        this.sink = mac == null ? null : new DirectBytes.Sink() {
            @Override
            public void update(byte[] array, int offset, int length) {
                mac.update(array, offset, length);
            }

            @Override
            public void update(ByteBuffer bytes) {
                mac.update(bytes);
            }

            @Override
            public void update(byte b) {
                mac.update(b);
            }
        };
        this.full = mac == null ? null : new byte[mac.getMacLength()];
    }

    /** The MAC of frames under {@code key}; without a key ({@link FrameKey#NONE}), none. */
    public static FrameMac of(FrameKey key) {
        if (!key.authenticates()) {
            return new FrameMac(null);
        }
        try {
            Mac m = Mac.getInstance(ALGORITHM);
            m.init(new SecretKeySpec(key.bytes(), ALGORITHM));
            return new FrameMac(m);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no " + ALGORITHM + " (every JDK 17 has): " + e.getMessage(), e);
        }
    }

    /** Whether frames carry a MAC trailer. */
    public boolean enabled() {
        return mac != null;
    }

    /** Bytes of the trailer every frame carries after its payload: {@link FrameFlyweight#MAC_LENGTH}, or 0 without a key. */
    public int length() {
        return mac == null ? 0 : FrameFlyweight.MAC_LENGTH;
    }

    /**
     * Writes the MAC of frame {@code f} (header and payload written, CRC sealed) for {@code receiverRank} into its
     * trailer; {@code f} must be wrapped for writing.
     */
    public void sign(FrameFlyweight f, int receiverRank) {
        if (mac != null) {
            compute(f, receiverRank);
            f.putMac(full, FrameFlyweight.MAC_LENGTH);
        }
    }

    /**
     * Whether the trailer of frame {@code f} (already found sound by {@link FrameFlyweight#validate(int, int)})
     * is its MAC for {@code receiverRank}: compared in constant time. True without a key.
     */
    public boolean verify(FrameFlyweight f, int receiverRank) {
        if (mac == null) {
            return true;
        }
        compute(f, receiverRank);
        DirectBuffer b = f.buffer();
        int at = f.macOffset();
        int diff = 0;
        for (int i = 0; i < FrameFlyweight.MAC_LENGTH; i++) {
            diff |= full[i] ^ b.getByte(at + i);
        }
        return diff == 0;
    }

    /** HMAC-SHA256(key, receiver rank as 4 bytes little-endian || header || payload) into {@link #full}. */
    private void compute(FrameFlyweight f, int receiverRank) {
        receiver[0] = (byte) receiverRank;
        receiver[1] = (byte) (receiverRank >>> 8);
        receiver[2] = (byte) (receiverRank >>> 16);
        receiver[3] = (byte) (receiverRank >>> 24);
        mac.update(receiver, 0, receiver.length);
        DirectBytes.feed(f.buffer(), f.offset(), f.frameLength(), sink);
        try {
            mac.doFinal(full, 0);
        } catch (javax.crypto.ShortBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
