package org.clmr.worker.collective;

import org.agrona.UnsafeApi;
import org.agrona.concurrent.UnsafeBuffer;
import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.FrameKey;
import org.clmr.protocol.wire.FrameMac;
import org.clmr.protocol.wire.OpKind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every verdict of {@link FrameTriage} on hand-made frames to rank 0 from its peer rank 1, each counted under its
 * reason and none failing the operation; a captured valid frame replayed into a later operation, step or
 * generation, another run or another rank is rejected; and judging allocates nothing.
 */
class FrameTriageTest {
    private static final long RUN = 0x77L;
    private static final long GEN = 3;
    private static final long FLOAT_BASE = UnsafeApi.arrayBaseOffset(float[].class);
    private static final int ROWS = 4;

    private final FrameKey key = FrameKey.random();
    private final CollectiveMetrics metrics = new CollectiveMetrics();
    private OpCursor op;
    private ChunkRegion due;
    private FrameTriage triage;

    @BeforeEach
    void currentOperationAwaitsOneChunkFromRank1() {
        op = new OpCursor(RUN, GEN, 0);
        triage = new FrameTriage(op, 1, FrameMac.of(key), metrics);
        due = new ChunkRegion(4096);
        at(5, 2);
    }

    /** The operation (step, sequence) of generation GEN runs its phase 0, awaiting one chunk of 4 floats. */
    private void at(long step, int sequence) {
        op.begin(new OpTag(GEN, step, sequence));
        op.kind(OpKind.ALL_GATHER_F32);
        op.phase(0);
        due.set(new float[ROWS], FLOAT_BASE, 0, ROWS, Float.BYTES);
        due.rewind();
    }

    /** What rank 1 sends rank 0 for (step, sequence), signed with {@code signer}'s MAC for {@code receiver}. */
    private static UnsafeBuffer frame(long run, long gen, long step, int sequence, FrameKey signer, int receiver) {
        UnsafeBuffer b = new UnsafeBuffer(new byte[FrameFlyweight.HEADER_LENGTH + ROWS * 4 + FrameFlyweight.MAC_LENGTH]);
        FrameFlyweight f = new FrameFlyweight().wrap(b, 0);
        f.runId(run).generation(gen).step(step).opSequence(sequence).opKind(OpKind.ALL_GATHER_F32).phase(0)
                .sourceRank(1).chunkIndex(0).chunkCount(1).payloadLength(ROWS * 4);
        for (int i = 0; i < ROWS; i++) {
            b.putFloat(f.payloadOffset() + 4 * i, i + 0.5f, FrameFlyweight.BYTE_ORDER);
        }
        f.sealCrc();
        FrameMac.of(signer).sign(f, receiver);
        return b;
    }

    private UnsafeBuffer valid() {
        return frame(RUN, GEN, 5, 2, key, 0);
    }

    private FrameVerdict judge(UnsafeBuffer b) {
        return judge(b, b.capacity(), true);
    }

    private FrameVerdict judge(UnsafeBuffer b, int length, boolean whole) {
        return triage.judge(new FrameFlyweight().wrapForRead(b, 0), length, whole, due);
    }

    /** Rewrites a field of a signed frame, as an attacker who captured it would, leaving its MAC. */
    private static UnsafeBuffer edited(UnsafeBuffer b, java.util.function.Consumer<FrameFlyweight> edit) {
        edit.accept(new FrameFlyweight().wrap(b, 0));
        return b;
    }

    @Test
    void shouldAcceptTheSignedChunkDue() {
        assertEquals(FrameVerdict.ACCEPTED, judge(valid()));
        assertTrue(metrics.snapshot().rejected().values().stream().allMatch(n -> n == 0));
    }

    @Test
    void shouldDropAndCountEveryKindOfBadFrameWithoutFailingTheOperation() {
        assertEquals(FrameVerdict.MALFORMED, judge(edited(valid(), f -> f.chunkCount(0))));
        assertEquals(FrameVerdict.MALFORMED, judge(valid(), FrameFlyweight.HEADER_LENGTH, true), "a bare 48-byte header");
        assertEquals(FrameVerdict.MALFORMED, judge(valid(), 20, true), "shorter than a header");
        assertEquals(FrameVerdict.MALFORMED, judge(valid(), FrameFlyweight.HEADER_LENGTH + ROWS * 4, true), "no MAC trailer");
        assertEquals(FrameVerdict.MALFORMED, judge(valid(), valid().capacity(), false), "one fragment of a larger message");
        assertEquals(FrameVerdict.MALFORMED, judge(signed(edited(valid(), f -> f.sourceRank(2)))), "another sender on rank 1's stream");
        assertEquals(FrameVerdict.OTHER_RUN, judge(frame(RUN + 1, GEN, 5, 2, key, 0)));
        assertEquals(FrameVerdict.OTHER_GENERATION, judge(frame(RUN, GEN - 1, 5, 2, key, 0)));
        assertEquals(FrameVerdict.FINISHED_OP, judge(frame(RUN, GEN, 5, 1, key, 0)));
        assertEquals(FrameVerdict.BAD_MAC, judge(frame(RUN, GEN, 5, 2, FrameKey.random(), 0)), "forged: right header and CRC");
        assertEquals(FrameVerdict.AHEAD, judge(frame(RUN, GEN, 6, 0, key, 0)));
        assertEquals(FrameVerdict.MISMATCH, judge(signed(edited(valid(), f -> f.chunkCount(2)))));
        UnsafeBuffer corrupt = valid();
        corrupt.putByte(FrameFlyweight.HEADER_LENGTH + 1, (byte) 0x7F);
        assertEquals(FrameVerdict.CORRUPT, judge(signed(corrupt)));

        CollectiveMetrics.Snapshot m = metrics.snapshot();
        assertEquals(java.util.List.of("malformed", "other_run", "other_generation", "stale_op", "bad_mac", "ahead",
                "mismatch", "crc"), java.util.List.copyOf(m.rejected().keySet()));
        assertEquals(6, m.rejected("malformed"));
        for (String reason : new String[] {"other_run", "other_generation", "stale_op", "bad_mac", "ahead", "mismatch", "crc"}) {
            assertEquals(1, m.rejected(reason), reason);
        }
        assertEquals(3, m.staleDropped());
        assertEquals(8, m.malformed(), "malformed, ahead and mismatch, as the older counter had them");
        assertEquals(1, m.crcFailures());
        assertTrue(!op.failed(), "no frame fails the operation");
        assertEquals(FrameVerdict.ACCEPTED, judge(valid()), "and the chunk due still completes it");
    }

    /** Signs a frame again after an edit, as a member of the generation (who holds the key) would. */
    private UnsafeBuffer signed(UnsafeBuffer b) {
        FrameMac.of(key).sign(new FrameFlyweight().wrap(b, 0), 0);
        return b;
    }

    @Test
    void shouldLeaveAFrameOfTheCurrentOperationInTheLogWhileNothingIsDue() {
        due.advance();
        assertEquals(FrameVerdict.NOT_DUE, judge(valid()));
        assertEquals(FrameVerdict.NOT_DUE, judge(frame(RUN, GEN, 5, 2, FrameKey.random(), 0)), "judged once it is due");
        assertTrue(metrics.snapshot().rejected().values().stream().allMatch(n -> n == 0));
    }

    @Test
    void shouldRejectACapturedFrameReplayedIntoALaterOperationStepGenerationRunOrRank() {
        UnsafeBuffer captured = valid();
        at(5, 3);
        assertEquals(FrameVerdict.FINISHED_OP, judge(copy(captured)), "as it was, in the next operation");
        assertEquals(FrameVerdict.BAD_MAC, judge(edited(copy(captured), f -> f.opSequence(3))), "retagged to it");
        at(6, 0);
        assertEquals(FrameVerdict.FINISHED_OP, judge(copy(captured)), "as it was, in the next step");
        assertEquals(FrameVerdict.BAD_MAC, judge(edited(copy(captured), f -> f.step(6).opSequence(0))), "retagged to it");

        FrameKey nextKey = FrameKey.random();
        op = new OpCursor(RUN, GEN + 1, 0);
        triage = new FrameTriage(op, 1, FrameMac.of(nextKey), metrics);
        at2(5, 2);
        assertEquals(FrameVerdict.OTHER_GENERATION, judge(copy(captured)), "as it was, in the next generation");
        assertEquals(FrameVerdict.BAD_MAC, judge(edited(copy(captured), f -> f.generation(GEN + 1))), "retagged to it");

        op = new OpCursor(RUN + 1, GEN, 0);
        triage = new FrameTriage(op, 1, FrameMac.of(key), metrics);
        at(5, 2);
        assertEquals(FrameVerdict.OTHER_RUN, judge(copy(captured)), "as it was, in another run");
        assertEquals(FrameVerdict.BAD_MAC, judge(edited(copy(captured), f -> f.runId(RUN + 1))), "retagged to it");

        op = new OpCursor(RUN, GEN, 2);
        triage = new FrameTriage(op, 1, FrameMac.of(key), metrics);
        at(5, 2);
        assertEquals(FrameVerdict.BAD_MAC, judge(copy(captured)), "a frame to rank 0 replayed to rank 2");
        assertEquals(FrameVerdict.ACCEPTED, judge(frame(RUN, GEN, 5, 2, key, 2)), "what rank 1 sends rank 2 itself");
    }

    /** {@link #at} for a cursor of generation GEN + 1. */
    private void at2(long step, int sequence) {
        op.begin(new OpTag(GEN + 1, step, sequence));
        op.kind(OpKind.ALL_GATHER_F32);
        op.phase(0);
        due.set(new float[ROWS], FLOAT_BASE, 0, ROWS, Float.BYTES);
        due.rewind();
    }

    private static UnsafeBuffer copy(UnsafeBuffer b) {
        byte[] bytes = new byte[b.capacity()];
        b.getBytes(0, bytes);
        return new UnsafeBuffer(bytes);
    }

    @Test
    void shouldJudgeWithoutAllocatingBeyondTheJdksMacResult() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        UnsafeBuffer stale = frame(RUN, GEN - 1, 5, 2, key, 0);
        UnsafeBuffer malformed = edited(valid(), f -> f.chunkCount(-1));
        UnsafeBuffer forged = frame(RUN, GEN, 5, 2, FrameKey.random(), 0);
        FrameFlyweight f = new FrameFlyweight();
        int n = 20_000;
        for (int round = 0; round < 2; round++) {
            long before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
            for (int i = 0; i < n; i++) {
                triage.judge(f.wrapForRead(stale, 0), stale.capacity(), true, due);
                triage.judge(f.wrapForRead(malformed, 0), malformed.capacity(), true, due);
            }
            long cheap = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
            before = threads.getThreadAllocatedBytes(Thread.currentThread().getId());
            for (int i = 0; i < n; i++) {
                triage.judge(f.wrapForRead(forged, 0), forged.capacity(), true, due);
            }
            long macs = threads.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
            if (round == 1) {
                assertTrue(cheap < 1024, cheap + " bytes allocated judging " + 2 * n + " stale and malformed frames");
                assertTrue(macs <= 64L * n, macs / n + " bytes allocated per frame whose MAC was checked");
            }
        }
    }
}
