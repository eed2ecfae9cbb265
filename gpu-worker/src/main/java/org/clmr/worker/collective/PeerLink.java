package org.clmr.worker.collective;

import io.aeron.Aeron;
import io.aeron.ControlledFragmentAssembler;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.exceptions.RegistrationException;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;
import org.clmr.protocol.UserError;
import org.clmr.protocol.wire.FrameFlyweight;

import java.util.List;

/**
 * One peer of an {@link AeronCollective}: the exclusive publication to it, the subscription from it, and
 * the current phase's send and receive regions. Sends write each chunk straight into the publication's
 * log; the receive path classifies every frame (current, stale, later, corrupt) against the
 * {@link OpCursor}. Used by the training thread only (the image callbacks excepted); allocates nothing
 * per frame.
 */
final class PeerLink implements ControlledFragmentHandler {
    final int rank;
    final ExclusivePublication publication;
    final Subscription subscription;
    final ControlledFragmentAssembler assembler;
    final BufferClaim claim = new BufferClaim();
    final FrameFlyweight tx = new FrameFlyweight();
    private final FrameFlyweight rx = new FrameFlyweight();
    private final OpCursor op;
    private final CollectiveMetrics metrics;
    private final List<String> endpoints;
    private final boolean ipc;
    private final int chunkBytes;
    boolean hadImage;
    /** Set by the Aeron client thread when the peer's image goes: true if it ended without end-of-stream. */
    volatile boolean died;
    volatile boolean ended;

    Object sendArray;
    long sendBase;
    int sendOffset;
    int sendLength;
    int sendElementBytes;
    int sendChunks;
    int sent;

    Object recvArray;
    long recvBase;
    int recvOffset;
    int recvLength;
    int recvElementBytes;
    int recvChunks;
    int received;
    /** True when received float chunks are summed into the region instead of copied (see {@link #receiveSum}). */
    boolean recvSum;
    /** With {@link #recvSum}: true to compute peer + own, false for own + peer (rank order). */
    boolean recvPeerFirst;
    private float[] scratch;

    PeerLink(int peerRank, OpCursor op, Aeron aeron, AeronSettings s, List<String> endpoints, int frameMtu,
             int chunkBytes, CollectiveMetrics metrics) {
        this.rank = peerRank;
        this.op = op;
        this.metrics = metrics;
        this.endpoints = endpoints;
        this.ipc = s.ipc();
        this.chunkBytes = chunkBytes;
        String params = "term-length=" + s.termLength() + "|mtu=" + frameMtu;
        String pubChannel;
        String subChannel;
        if (ipc) {
            pubChannel = "aeron:ipc?" + params;
            subChannel = "aeron:ipc";
        } else {
            pubChannel = "aeron:udp?endpoint=" + endpoints.get(peerRank) + "|" + params;
            subChannel = "aeron:udp?endpoint=" + endpoints.get(op.rank);
        }
        int outStream = AeronCollective.streamId(op.generation, peerRank, op.rank);
        int inStream = AeronCollective.streamId(op.generation, op.rank, peerRank);
        try {
            this.subscription = aeron.addSubscription(subChannel, inStream,
                    this::onImageAvailable, this::onImageUnavailable);
        } catch (RegistrationException e) {
            throw endpointError(op.rank, e);
        }
        try {
            this.publication = aeron.addExclusivePublication(pubChannel, outStream);
        } catch (RegistrationException e) {
            CloseHelper.quietClose(subscription);
            throw endpointError(peerRank, e);
        }
        this.assembler = new ControlledFragmentAssembler(this, s.maxMessageLength(), true);
    }

    private RuntimeException endpointError(int whose, RegistrationException e) {
        String m = AeronTransport.oneLine(e);
        if (m.contains("in use") || m.contains("bind")) {
            return new UserError("UDP endpoint " + endpoints.get(whose) + " of rank " + whose
                    + " is already in use by another process (clmr.worker.aeron.endpoint): stop it or choose a free port ("
                    + m + ")", e);
        }
        return new UserError("Aeron refused the channel of rank " + whose + " ("
                + (ipc ? "ipc" : "udp " + endpoints.get(whose)) + "): " + m, e);
    }

    void onImageAvailable(Image image) {
        ended = false;
        died = false;
    }

    void onImageUnavailable(Image image) {
        if (image.isEndOfStream()) {
            ended = true;
        } else {
            died = true;
        }
    }

    boolean connected() {
        if (subscription.imageCount() > 0) {
            hadImage = true;
        }
        return publication.isConnected() && hadImage;
    }

    boolean imageGone() {
        return hadImage && subscription.imageCount() == 0;
    }

    void send(Object array, long base, int offset, int length, int elementBytes) {
        sendArray = array;
        sendBase = base;
        sendOffset = offset;
        sendLength = length;
        sendElementBytes = elementBytes;
        sendChunks = chunks(length, elementBytes);
    }

    void receive(Object array, long base, int offset, int length, int elementBytes) {
        recvArray = array;
        recvBase = base;
        recvOffset = offset;
        recvLength = length;
        recvElementBytes = elementBytes;
        recvChunks = chunks(length, elementBytes);
        recvSum = false;
    }

    /**
     * Receives {@code length} floats and sums each chunk into {@code target[offset, +length)} as it arrives
     * (peer + own when {@code peerFirst}, else own + peer), fusing the copy out of the log with the
     * reduction: the chunk passes through a cache-resident scratch array instead of a staging array as
     * large as the region. The region must not be sent from in the same phase.
     */
    void receiveSum(float[] target, long base, int offset, int length, boolean peerFirst) {
        receive(target, base, offset, length, Float.BYTES);
        recvSum = true;
        recvPeerFirst = peerFirst;
        if (scratch == null) {
            scratch = new float[chunkBytes / Float.BYTES];
        }
    }

    private int chunks(int length, int elementBytes) {
        int perChunk = chunkBytes / elementBytes;
        return (length + perChunk - 1) / perChunk;
    }

    void startPhase() {
        sent = 0;
        received = 0;
    }

    /** Clears the regions so that the next phase sends or receives nothing unless it says so. */
    void endPhase() {
        sendArray = null;
        sendChunks = 0;
        recvArray = null;
        recvChunks = 0;
        recvSum = false;
    }

    boolean done() {
        return sent >= sendChunks && received >= recvChunks;
    }

    /** Writes the next chunk straight into the publication's log (one copy), if there is room. */
    int trySend() {
        if (sent >= sendChunks) {
            return 0;
        }
        int perChunk = chunkBytes / sendElementBytes;
        int first = sent * perChunk;
        int bytes = Math.min(perChunk, sendLength - first) * sendElementBytes;
        long result = publication.tryClaim(FrameFlyweight.HEADER_LENGTH + bytes, claim);
        if (result > 0) {
            MutableDirectBuffer b = claim.buffer();
            int at = claim.offset();
            tx.wrap(b, at).runId(op.runId).generation(op.generation).step(op.step).opSequence(op.sequence).opKind(op.kind)
                    .phase(op.phase).sourceRank(op.rank).chunkIndex(sent).chunkCount(sendChunks)
                    .payloadLength(bytes);
            UnsafeApi.copyMemory(sendArray, sendBase + (long) (sendOffset + first) * sendElementBytes,
                    b.byteArray(), b.addressOffset() + at + FrameFlyweight.HEADER_LENGTH, bytes);
            tx.sealCrc();
            claim.commit();
            metrics.framesSent.incrementAndGet();
            metrics.bytesSent.addAndGet(bytes);
            sent++;
            if (sent == sendChunks) {
                sendArray = null;
            }
            return 1;
        }
        if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
            op.failure = "publication to rank " + rank + " is " + Publication.errorString(result);
        }
        return 0;
    }

    @Override
    public Action onFragment(DirectBuffer buffer, int offset, int length, Header header) {
        FrameFlyweight f = rx.wrapForRead(buffer, offset);
        String invalid = f.validate(length);
        if (invalid != null) {
            metrics.malformed.incrementAndGet();
            op.failure = "malformed frame from rank " + rank + ": " + invalid;
            return Action.BREAK;
        }
        if (f.runId() != op.runId || f.generation() != op.generation) {
            metrics.staleDropped.incrementAndGet();
            return Action.CONTINUE;
        }
        int cmp = op.compareToCurrent(f.step(), f.opSequence(), f.phase());
        if (cmp < 0) {
            metrics.staleDropped.incrementAndGet();
            return Action.CONTINUE;
        }
        if (received >= recvChunks) {
            return Action.ABORT;
        }
        if (cmp > 0) {
            metrics.malformed.incrementAndGet();
            op.failure = "rank " + rank + " sent " + f + " while this rank still awaits chunk " + received + " of "
                    + recvChunks + " of the current phase (the ranks disagree on the order of operations)";
            return Action.BREAK;
        }
        return accept(f);
    }

    private Action accept(FrameFlyweight f) {
        int perChunk = chunkBytes / recvElementBytes;
        int first = received * perChunk;
        int bytes = Math.min(perChunk, recvLength - first) * recvElementBytes;
        if (f.opKindCode() != op.kind.code() || f.sourceRank() != rank || f.chunkIndex() != received
                || f.chunkCount() != recvChunks || f.payloadLength() != bytes) {
            metrics.malformed.incrementAndGet();
            op.failure = "rank " + rank + " sent " + f + " where this rank expected opKind=" + op.kind.code()
                    + " sourceRank=" + rank + " chunkIndex=" + received + " chunkCount=" + recvChunks
                    + " payloadLength=" + bytes + " (the ranks disagree on the operation)";
            return Action.BREAK;
        }
        if (!f.crcMatches()) {
            metrics.crcFailures.incrementAndGet();
            op.failure = "CRC32C mismatch in chunk " + received + " of " + recvChunks + " from rank " + rank
                    + " (stored " + Integer.toHexString(f.crc()) + ", computed "
                    + Integer.toHexString(f.computePayloadCrc()) + "); refusing to sum corrupt data";
            return Action.BREAK;
        }
        DirectBuffer b = f.buffer();
        if (recvSum) {
            float[] s = scratch;
            UnsafeApi.copyMemory(b.byteArray(), b.addressOffset() + f.payloadOffset(), s, recvBase, bytes);
            addChunk((float[]) recvArray, recvOffset + first, s, bytes / Float.BYTES, recvPeerFirst);
        } else {
            UnsafeApi.copyMemory(b.byteArray(), b.addressOffset() + f.payloadOffset(), recvArray,
                    recvBase + (long) (recvOffset + first) * recvElementBytes, bytes);
        }
        metrics.framesReceived.incrementAndGet();
        metrics.bytesReceived.addAndGet(bytes);
        received++;
        if (received == recvChunks) {
            recvArray = null;
            return Action.BREAK;
        }
        return Action.CONTINUE;
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
}
