package org.clmr.coordinator.http;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.clmr.coordinator.history.HistoryEntry;
import org.clmr.coordinator.history.HistoryFilter;
import org.clmr.coordinator.history.HistoryReader;
import org.clmr.protocol.UserError;
import org.clmr.protocol.cluster.ControlInput;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.http.HttpGuard;
import org.clmr.protocol.http.HttpGuard.Access;
import org.clmr.protocol.http.HttpTls;
import org.clmr.protocol.run.RunSpec;

import javax.net.ssl.SSLContext;

import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The coordinator node's HTTP endpoint (JDK HTTP server, a small thread pool):
 * <ul>
 *   <li>{@code GET /status}: the run's {@code Status} as JSON (what {@code clmr status} prints);</li>
 *   <li>{@code GET /metrics}: Prometheus text format;</li>
 *   <li>{@code POST /control/start?run-id=ID&dataset-hash=HASH&tracks=N[&if-exists=resume|fresh-keep|fresh-drop]}:
 *       start a run with this node's RunSpec (an existing run id is refused unless {@code if-exists} says); {@code POST /control/pause}, {@code /control/resume}, {@code /control/stop}: answer an
 *       {@code OperatorReply} as JSON, status 200 when accepted and 409 when refused;</li>
 *   <li>{@code POST /control/drain?worker=ID}: drain a worker ({@code DrainWorker}), answered the same way;</li>
 *   <li>{@code GET /history?since=INSTANT&kind=K1,K2&run-id=ID}: the runs' history read from the journal
 *       ({@link HistoryReader}), a JSON array of {@link HistoryEntry} (what {@code clmr history} prints).</li>
 * </ul>
 * HTTP was chosen over joining the cluster as a client so that {@code clmr status} is instant, needs no
 * cluster port, and works from any machine that reaches the coordinator (curl works too).
 *
 * <p>Every {@code /control/*} request needs the node's control token, and {@code /status} and {@code /metrics} too
 * when {@code clmr.security.protect-reads} is on ({@link HttpGuard}: 401 and one line of JSON otherwise, nothing
 * changed). The values a request carries come from outside the cluster: each is checked ({@link ControlInput})
 * before the coordinator is asked, and a bad one is answered 400 with one line. HTTPS when the node was given a TLS
 * context.
 */
public final class StatusHttpServer implements AutoCloseable {
    /** Status/operator JSON: record fields, ISO-8601 times. */
    public static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .setVisibility(PropertyAccessor.ALL, JsonAutoDetect.Visibility.NONE)
            .setVisibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY);

    private final HttpServer server;
    private final ExecutorService executor;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private StatusHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Listens on {@code host:port} (0: any free port) and starts serving; called once by the coordinator node.
     *
     * @param coordinator where status and operator commands are asked (the singleton's proxy)
     * @param metrics     what {@code /metrics} exposes
     * @param spec        the RunSpec {@code /control/start} starts
     * @param timeout     how long an ask waits for the coordinator
     * @param guard       who may read and who may control
     * @param tls         HTTPS with this context, or plain HTTP when empty
     */
    public static StatusHttpServer start(String host, int port, ActorSystem<?> system,
                                         ActorRef<ToCoordinator> coordinator, PrometheusRegistry metrics, RunSpec spec,
                                         Duration timeout, HttpGuard guard, Optional<SSLContext> tls) {
        return start(host, port, system, coordinator, metrics, spec, timeout, guard, tls, last -> Optional.empty());
    }

    /**
     * Listens as above; while the coordinator does not answer (it cannot read its journal), {@code GET /status}
     * answers what {@code whenUnanswered} makes of the last status served (null before the first), if anything.
     */
    public static StatusHttpServer start(String host, int port, ActorSystem<?> system,
                                         ActorRef<ToCoordinator> coordinator, PrometheusRegistry metrics, RunSpec spec,
                                         Duration timeout, HttpGuard guard, Optional<SSLContext> tls,
                                         Function<Status, Optional<Status>> whenUnanswered) {
        AtomicReference<Status> last = new AtomicReference<>();
        HttpServer server;
        try {
            server = HttpTls.server(new InetSocketAddress(host, port), tls);
        } catch (BindException e) {
            throw new UserError("cannot listen on " + host + ":" + port + " for status and metrics (" + e.getMessage()
                    + "): set clmr.coordinator.http.port to a free port");
        } catch (IOException e) {
            throw new UserError("cannot start the HTTP endpoint on " + host + ":" + port + ": " + e.getMessage());
        }
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "clmr-coordinator-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", guard.guard(Access.READ, new MetricsHandler(metrics)));
        server.createContext("/status", guard.guard(Access.READ, ex -> {
            if (!ex.getRequestMethod().equals("GET")) {
                send(ex, 405, Map.of("error", "use GET /status"));
                return;
            }
            Status status;
            try {
                status = ask(system, coordinator, GetStatus::new, timeout);
                last.set(status);
            } catch (Exception e) {
                Optional<Status> instead = whenUnanswered.apply(last.get());
                if (instead.isPresent()) {
                    send(ex, 200, instead.get());
                } else {
                    send(ex, 503, Map.of("error", "the coordinator did not answer: " + e));
                }
                return;
            }
            send(ex, 200, status);
        }));
        server.createContext("/history", guard.guard(Access.READ, ex -> {
            if (!ex.getRequestMethod().equals("GET")) {
                send(ex, 405, Map.of("error", "use GET /history"));
                return;
            }
            HistoryFilter filter;
            try {
                filter = ControlRequest.history(ex.getRequestURI().getRawQuery());
            } catch (IllegalArgumentException e) {
                send(ex, 400, Map.of("error", e.getMessage()));
                return;
            }
            answer(ex, () -> filter.apply(HistoryReader.read(system,
                    system.settings().config().getString("clmr.coordinator.persistence-id"), timeout)), h -> 200);
        }));
        server.createContext("/control/", guard.guard(Access.CONTROL, ex -> control(ex, system, coordinator, spec,
                timeout)));
        server.start();
        return new StatusHttpServer(server, executor);
    }

    /** {@code POST /control/ACTION?...}: checked, then asked of the coordinator; a bad request is answered at once. */
    private static void control(HttpExchange ex, ActorSystem<?> system, ActorRef<ToCoordinator> coordinator, RunSpec spec,
                                Duration timeout) throws IOException {
        if (!ex.getRequestMethod().equals("POST")) {
            send(ex, 405, Map.of("error", "use POST /control/{start,pause,resume,stop,drain}"));
            return;
        }
        ControlRequest.Parsed p = ControlRequest.control(ex.getRequestURI().getPath().substring("/control/".length()),
                ex.getRequestURI().getRawQuery(), spec);
        if (p.message() == null) {
            send(ex, p.code(), p.refusal());
            return;
        }
        Function<ActorRef<OperatorReply>, ToCoordinator> message = p.message();
        answer(ex, () -> ask(system, coordinator, message, timeout), r -> ((OperatorReply) r).accepted() ? 200 : 409);
    }

    private static <R> R ask(ActorSystem<?> system, ActorRef<ToCoordinator> coordinator,
                             Function<ActorRef<R>, ToCoordinator> message, Duration timeout) throws Exception {
        return AskPattern.ask(coordinator, message::apply, timeout, system.scheduler()).toCompletableFuture()
                .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    }

    private interface Call {
        Object call() throws Exception;
    }

    private static void answer(HttpExchange ex, Call call, Function<Object, Integer> code) throws IOException {
        Object result;
        try {
            result = call.call();
        } catch (Exception e) {
            send(ex, 503, Map.of("error", "the coordinator did not answer: " + e));
            return;
        }
        send(ex, code.apply(result), result);
    }

    private static void send(HttpExchange ex, int code, Object body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops serving; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.stop(0);
        executor.shutdownNow();
    }
}
