package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import org.agrona.concurrent.UnsafeBuffer;
import org.clmr.protocol.wire.FrameFlyweight;
import org.clmr.protocol.wire.OpKind;
import org.clmr.worker.collective.AeronCollective;
import org.clmr.worker.collective.Membership;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Another process on a training cluster's host, sending what a neighbour who reads {@code /status} can: once the run
 * trains in a generation of all {@code worldSize} workers (under load the first generation may hold only the worker
 * that registered first), on every stream of that generation (receiver, sender), one malformed 48-byte frame (a chunk count of -1:
 * the datagram that used to end a worker) and one forged frame (right run, generation, stream, header and CRC, the
 * run's last step, a MAC of random bytes), over the host's Aeron driver. Then it waits, closes its publications (the
 * workers see those images end) and exits. Arguments: {@code driverDir coordinatorHttp worldSize holdMillis}. Prints
 * {@code SENT n generation g} once every frame is in, {@code CLOSED} at the end.
 */
public final class RogueFrames {
    private static final int PAYLOAD = 64;

    private RogueFrames() {
    }

    public static void main(String[] args) throws Exception {
        String dir = args[0];
        int world = Integer.parseInt(args[2]);
        JsonNode status = awaitTraining(args[1], world);
        long run = Membership.runKey(status.get("runId").asText());
        long generation = status.get("generation").asLong();
        long step = status.get("totalSteps").asLong() - 1;
        long holdMillis = Long.parseLong(args[3]);
        try (Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir))) {
            List<ExclusivePublication> pubs = new ArrayList<>();
            int sent = 0;
            for (int receiver = 0; receiver < world; receiver++) {
                for (int sender = 0; sender < world; sender++) {
                    if (sender != receiver) {
                        ExclusivePublication p = aeron.addExclusivePublication("aeron:ipc",
                                AeronCollective.streamId(generation, receiver, sender));
                        pubs.add(p);
                        send(p, malformed(run, generation, step, sender));
                        send(p, forged(run, generation, step, sender));
                        sent += 2;
                    }
                }
            }
            System.out.println("SENT " + sent + " generation " + generation);
            System.out.flush();
            Thread.sleep(holdMillis);
            pubs.forEach(ExclusivePublication::close);
        }
        System.out.println("CLOSED");
        System.out.flush();
    }

    /** The coordinator's status once its run trains in a generation of {@code world} members (polled every 50 ms for up to 5 minutes). */
    private static JsonNode awaitTraining(String http, int world) throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://" + http + "/status"))
                        .GET().build(), HttpResponse.BodyHandlers.ofString());
                JsonNode s = new ObjectMapper().readTree(r.body());
                if (r.statusCode() == 200 && s.get("phase").asText().equals("RUNNING") && s.get("members").size() == world) {
                    return s;
                }
            } catch (java.io.IOException e) {
                // the coordinator is not serving yet
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the run at " + http + " did not train with " + world + " members within 5 minutes");
    }

    /** The bare 48-byte header of issue #17: chunk count -1, no payload, its (empty) CRC right. */
    private static UnsafeBuffer malformed(long run, long generation, long step, int sender) {
        UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(FrameFlyweight.HEADER_LENGTH));
        new FrameFlyweight().wrap(b, 0).runId(run).generation(generation).step(step).opSequence(0)
                .opKind(OpKind.ALL_REDUCE_DIRECT_F32).phase(0).sourceRank(sender).chunkIndex(0).chunkCount(-1)
                .payloadLength(0).sealCrc();
        return b;
    }

    /** A frame any member could have sent, but its MAC: random bytes where the generation key's MAC goes. */
    private static UnsafeBuffer forged(long run, long generation, long step, int sender) {
        UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(FrameFlyweight.HEADER_LENGTH + PAYLOAD
                + FrameFlyweight.MAC_LENGTH));
        FrameFlyweight f = new FrameFlyweight().wrap(b, 0).runId(run).generation(generation).step(step).opSequence(0)
                .opKind(OpKind.ALL_REDUCE_DIRECT_F32).phase(0).sourceRank(sender).chunkIndex(0).chunkCount(1)
                .payloadLength(PAYLOAD);
        for (int i = 0; i < PAYLOAD / 4; i++) {
            b.putFloat(f.payloadOffset() + 4 * i, 1e6f, FrameFlyweight.BYTE_ORDER);
        }
        f.sealCrc();
        byte[] mac = new byte[FrameFlyweight.MAC_LENGTH];
        ThreadLocalRandom.current().nextBytes(mac);
        b.putBytes(f.macOffset(), mac);
        return b;
    }

    private static void send(ExclusivePublication p, UnsafeBuffer frame) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (p.offer(frame, 0, frame.capacity()) < 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no subscriber took a frame on stream " + p.streamId() + " within 30 s");
            }
            Thread.sleep(5);
        }
    }
}
