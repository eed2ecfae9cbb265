package org.clmr.worker.collective;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.exceptions.RegistrationException;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.clmr.protocol.UserError;
import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.FrameMac;

import java.util.List;

/**
 * One peer of an {@link AeronCollective}: the exclusive publication to it, the subscription from it, the
 * current phase's send and receive regions, and what Aeron says of the peer's connection. Sends write
 * each chunk straight into the publication's log and sign it there; received frames are judged by a
 * {@link FrameTriage} and accepted chunks copied (or summed) straight out of the log. Allocates nothing per
 * frame of its own (the JDK's MAC allocates its 32-byte result, see {@link FrameMac}).
 *
 * <p>Anyone who can reach the endpoint can publish on the peer's stream: each such publication is one more
 * image of the subscription, and its frames are judged and dropped like any other. What Aeron says of images
 * therefore counts only for the peer's own image, the one that delivered an accepted (authenticated) frame;
 * before there is one, the peer is found gone by having no image at all, by nobody subscribing to this link's
 * publication, or by the operation's deadline.
 *
 * <p>Threads: the thread running the operation calls every method; Aeron's client conductor thread calls
 * the image callbacks, which only read {@link #peerSession} and set the two volatile flags read by
 * {@link #died()} and {@link #down()}.
 */
final class PeerLink implements ControlledFragmentHandler {
    private static final int FRAGMENT_LIMIT = 32;
    private static final long FLOAT_BASE = UnsafeApi.arrayBaseOffset(float[].class);
    private static final long UNKNOWN = Long.MIN_VALUE;

    private final int rank;
    private final ExclusivePublication publication;
    private final Subscription subscription;
    private final BufferClaim claim = new BufferClaim();
    private final FrameFlyweight tx = new FrameFlyweight();
    private final FrameFlyweight rx = new FrameFlyweight();
    private final OpCursor op;
    private final FrameTriage triage;
    private final FrameMac mac;
    private final CollectiveMetrics metrics;
    private final String endpoint;
    private final int chunkBytes;
    private final ChunkRegion out;
    private final ChunkRegion in;
    private boolean hadImage;
    /** Aeron session id of the peer's image, once it delivered an accepted frame; {@link #UNKNOWN} before. */
    private volatile long peerSession = UNKNOWN;
    /** Set by the Aeron client thread when the peer's image goes without end-of-stream: its process died. */
    private volatile boolean died;
    /** Set by the Aeron client thread when the peer's image ends with end-of-stream: it closed the generation. */
    private volatile boolean ended;
    /** True when received float chunks are summed into the region instead of copied (see {@link #receiveSum}). */
    private boolean inSum;
    /** With {@link #inSum}: true to compute peer + own, false for own + peer (rank order). */
    private boolean inPeerFirst;
    private float[] scratch;

    /**
     * Opens the link to {@code peerRank}: a subscription on this rank's endpoint (or IPC) for the frames
     * the peer sends here, and an exclusive publication to the peer's endpoint. A refused channel (a port
     * in use) is a one-line {@link UserError}.
     */
    PeerLink(int peerRank, OpCursor op, Aeron aeron, AeronSettings s, List<String> endpoints, int frameMtu,
             int chunkBytes, FrameMac mac, CollectiveMetrics metrics) {
        this.rank = peerRank;
        this.op = op;
        this.metrics = metrics;
        this.mac = mac;
        this.triage = new FrameTriage(op, peerRank, mac, metrics);
        this.endpoint = s.ipc() ? "ipc" : "udp " + endpoints.get(peerRank);
        this.chunkBytes = chunkBytes;
        this.out = new ChunkRegion(chunkBytes);
        this.in = new ChunkRegion(chunkBytes);
        String params = "term-length=" + s.termLength() + "|mtu=" + frameMtu;
        String pubChannel = s.ipc() ? "aeron:ipc?" + params : "aeron:udp?endpoint=" + endpoints.get(peerRank) + "|" + params;
        String subChannel = s.ipc() ? "aeron:ipc" : "aeron:udp?endpoint=" + endpoints.get(op.rank());
        int outStream = AeronCollective.streamId(op.generation(), peerRank, op.rank());
        int inStream = AeronCollective.streamId(op.generation(), op.rank(), peerRank);
        try {
            this.subscription = aeron.addSubscription(subChannel, inStream, this::onImageAvailable, this::onImageUnavailable);
        } catch (RegistrationException e) {
            throw endpointError(op.rank(), endpoints, s.ipc(), e);
        }
        try {
            this.publication = aeron.addExclusivePublication(pubChannel, outStream);
        } catch (RegistrationException e) {
            CloseHelper.quietClose(subscription);
            throw endpointError(peerRank, endpoints, s.ipc(), e);
        }
    }

    private static RuntimeException endpointError(int whose, List<String> endpoints, boolean ipc, RegistrationException e) {
        String m = AeronTransport.oneLine(e);
        if (m.contains("in use") || m.contains("bind")) {
            return new UserError("UDP endpoint " + endpoints.get(whose) + " of rank " + whose
                    + " is already in use by another process (clmr.worker.aeron.endpoint): stop it or choose a free port ("
                    + m + ")", e);
        }
        return new UserError("Aeron refused the channel of rank " + whose + " ("
                + (ipc ? "ipc" : "udp " + endpoints.get(whose)) + "): " + m, e);
    }

    private void onImageAvailable(Image image) {
        if (image.sessionId() == peerSession) {
            ended = false;
            died = false;
        }
    }

    private void onImageUnavailable(Image image) {
        if (image.sessionId() != peerSession) {
            return;
        }
        if (image.isEndOfStream()) {
            ended = true;
        } else {
            died = true;
        }
    }

    /** The peer's rank. */
    int rank() {
        return rank;
    }

    /** How the peer is reached: {@code ipc} or {@code udp host:port} (error messages). */
    String endpoint() {
        return endpoint;
    }

    /** True once the peer subscribes to this link's publication and its own publication has reached us. */
    boolean connected() {
        if (subscription.imageCount() > 0) {
            hadImage = true;
        }
        return publication.isConnected() && hadImage;
    }

    /** True when the peer's image went away without end-of-stream (its process or host died). */
    boolean died() {
        return died;
    }

    /** True when any sign says the peer is gone: died, closed the generation, image gone or nobody subscribes. */
    boolean down() {
        return died || ended || (hadImage && subscription.imageCount() == 0) || !publication.isConnected();
    }

    /** This phase sends {@code array[offset, +length)} of {@code elementBytes}-byte elements to the peer. */
    void send(Object array, long base, int offset, int length, int elementBytes) {
        out.set(array, base, offset, length, elementBytes);
    }

    /** This phase receives the peer's {@code length} elements into {@code array[offset, +length)}. */
    void receive(Object array, long base, int offset, int length, int elementBytes) {
        in.set(array, base, offset, length, elementBytes);
        inSum = false;
    }

    /**
     * Receives {@code length} floats and sums each chunk into {@code target[offset, +length)} as it arrives
     * (peer + own when {@code peerFirst}, else own + peer), fusing the copy out of the log with the
     * reduction: the chunk passes through a cache-resident scratch array instead of a staging array as
     * large as the region. The region must not be sent from in the same phase.
     */
    void receiveSum(float[] target, long base, int offset, int length, boolean peerFirst) {
        receive(target, base, offset, length, Float.BYTES);
        inSum = true;
        inPeerFirst = peerFirst;
        if (scratch == null) {
            scratch = new float[chunkBytes / Float.BYTES];
        }
    }

    /** Counts this phase's chunks from the first, in both directions. */
    void startPhase() {
        out.rewind();
        in.rewind();
    }

    /** Clears the regions so that the next phase sends or receives nothing unless it says so. */
    void endPhase() {
        out.clear();
        in.clear();
        inSum = false;
    }

    /** True when this phase's chunks to and from the peer are all through. */
    boolean done() {
        return !out.due() && !in.due();
    }

    /** Writes the next chunk straight into the publication's log (one copy), if there is room; returns the work done. */
    int trySend() {
        if (!out.due()) {
            return 0;
        }
        int bytes = out.nextBytes();
        long result = publication.tryClaim(FrameFlyweight.HEADER_LENGTH + bytes + mac.length(), claim);
        if (result > 0) {
            MutableDirectBuffer b = claim.buffer();
            int at = claim.offset();
            op.stamp(tx.wrap(b, at), out.index(), out.count(), bytes);
            UnsafeApi.copyMemory(out.array(), out.nextAddress(),
                    b.byteArray(), b.addressOffset() + at + FrameFlyweight.HEADER_LENGTH, bytes);
            tx.sealCrc();
            mac.sign(tx, rank);
            claim.commit();
            metrics.sent(bytes);
            out.advance();
            return 1;
        }
        if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
            op.fail("publication to rank " + rank + " is " + Publication.errorString(result));
        }
        return 0;
    }

    /**
     * Polls the peer's frames while a chunk from it is due; returns the fragments read. Every frame of ours is
     * one Aeron fragment (chunks fit the MTU), so fragments are judged as they are, without reassembly: a
     * fragment of a larger message is malformed, and nobody can make this link buffer one.
     */
    int poll() {
        return in.due() ? subscription.controlledPoll(this, FRAGMENT_LIMIT) : 0;
    }

    @Override
    public Action onFragment(DirectBuffer buffer, int offset, int length, Header header) {
        FrameFlyweight f = rx.wrapForRead(buffer, offset);
        boolean whole = (header.flags() & FrameDescriptor.UNFRAGMENTED) == FrameDescriptor.UNFRAGMENTED;
        FrameVerdict v = triage.judge(f, length, whole, in);
        if (v == FrameVerdict.ACCEPTED) {
            if (peerSession != header.sessionId()) {
                peerSession = header.sessionId();
            }
            return accept(f);
        }
        return v == FrameVerdict.NOT_DUE ? Action.ABORT : Action.CONTINUE;
    }

    private Action accept(FrameFlyweight f) {
        int bytes = in.nextBytes();
        DirectBuffer b = f.buffer();
        long from = b.addressOffset() + f.payloadOffset();
        if (inSum) {
            float[] s = scratch;
            UnsafeApi.copyMemory(b.byteArray(), from, s, FLOAT_BASE, bytes);
            addChunk((float[]) in.array(), in.nextElement(), s, bytes / Float.BYTES, inPeerFirst);
        } else {
            UnsafeApi.copyMemory(b.byteArray(), from, in.array(), in.nextAddress(), bytes);
        }
        metrics.received(bytes);
        return in.advance() ? Action.BREAK : Action.CONTINUE;
    }

    private static void addChunk(float[] target, int at, float[] s, int n, boolean peerFirst) {
        if (peerFirst) {
            for (int i = 0; i < n; i++) {
                target[at + i] = s[i] + target[at + i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                target[at + i] = target[at + i] + s[i];
            }
        }
    }

    /** Closes the publication and the subscription. */
    void close() {
        CloseHelper.quietCloseAll(publication, subscription);
    }
}
