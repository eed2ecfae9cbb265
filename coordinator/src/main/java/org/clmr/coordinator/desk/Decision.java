package org.clmr.coordinator.desk;

import akka.actor.typed.ActorRef;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.slf4j.Logger;
import org.slf4j.event.Level;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a desk decided about one command: the events to persist, and what happens once they are persisted:
 * the messages to send, the counts for the metrics, the lines for the log and at most one reply. A desk never
 * returns an Akka effect; the coordinator's shell carries a decision out in one place, in that order. Immutable;
 * built and carried out on the coordinator actor's thread.
 *
 * @param events events to persist, in order
 * @param tells  messages to send after the events are persisted and their own side effects ran
 * @param reply  the answer to the command's sender, or null
 * @param counts what the metrics count
 * @param notes  lines for the coordinator's log
 */
public record Decision(List<CoordinatorEvent> events, List<Tell<?>> tells, Tell<?> reply, List<Count> counts,
                       List<Note> notes) {

    private static final Decision NONE = new Decision(List.of(), List.of(), null, List.of(), List.of());

    public Decision {
        events = List.copyOf(events);
        tells = List.copyOf(tells);
        counts = List.copyOf(counts);
        notes = List.copyOf(notes);
    }

    /** A message for one actor. */
    public record Tell<M>(ActorRef<M> to, M message) {
        /** Sends it. */
        public void send() {
            to.tell(message);
        }
    }

    /** A line for the coordinator's log, at a level. */
    public record Note(Level level, String text) {
        /** Writes it to {@code log}. */
        public void logTo(Logger log) {
            switch (level) {
                case ERROR -> log.error(text);
                case WARN -> log.warn(text);
                case INFO -> log.info(text);
                default -> log.debug(text);
            }
        }
    }

    /** Something the coordinator's metrics count. */
    public sealed interface Count permits Classified, Refused, Incident {
    }

    /** A report or reply that may arrive late or twice, of a type ({@code progress}, {@code drain}...), classified. */
    public record Classified(String type, Classification classification) implements Count {
    }

    /** A registration refused, and why. */
    public record Refused(RefusalReason reason) implements Count {
    }

    /** A trouble the metrics count on its own. */
    public enum Incident implements Count {
        /** A member's weights fingerprint differs from another's at the same step. */
        WEIGHTS_DIVERGED,
        /** A checkpoint was not written, or failed verification. */
        CHECKPOINT_FAILED
    }

    /** Nothing to persist, send, count or log. */
    public static Decision none() {
        return NONE;
    }

    /** Persist these events. */
    public static Decision persist(CoordinatorEvent... events) {
        return NONE.with(List.of(events), List.of(), null, List.of(), List.of());
    }

    /** Persist these events. */
    public static Decision persist(List<CoordinatorEvent> events) {
        return NONE.with(events, List.of(), null, List.of(), List.of());
    }

    /** This decision, then {@code next}: events, messages, counts and notes in order; one reply at most. */
    public Decision and(Decision next) {
        if (reply != null && next.reply != null) {
            throw new IllegalStateException("two replies to one command: " + reply + " and " + next.reply);
        }
        Decision d = with(next.events, next.tells, null, next.counts, next.notes);
        return new Decision(d.events, d.tells, reply != null ? reply : next.reply, d.counts, d.notes);
    }

    /** Also send {@code message} to {@code to} once the events are persisted. */
    public <M> Decision tell(ActorRef<M> to, M message) {
        return with(List.of(), List.of(new Tell<>(to, message)), null, List.of(), List.of());
    }

    /** Answer the command's sender with {@code message}. */
    public <M> Decision reply(ActorRef<M> to, M message) {
        return and(new Decision(List.of(), List.of(), new Tell<>(to, message), List.of(), List.of()));
    }

    /** Also count a message of {@code type} as {@code classification}. */
    public Decision classified(String type, Classification classification) {
        return count(new Classified(type, classification));
    }

    /** Also count this. */
    public Decision count(Count count) {
        return with(List.of(), List.of(), null, List.of(count), List.of());
    }

    /** Also log this line at INFO. */
    public Decision info(String text) {
        return note(Level.INFO, text);
    }

    /** Also log this line at WARN. */
    public Decision warn(String text) {
        return note(Level.WARN, text);
    }

    /** Also log this line at DEBUG. */
    public Decision debug(String text) {
        return note(Level.DEBUG, text);
    }

    private Decision note(Level level, String text) {
        return with(List.of(), List.of(), null, List.of(), List.of(new Note(level, text)));
    }

    /** The classification of the command this decision is about, if it was classified. */
    public Optional<Classification> classification() {
        return counts.stream().filter(Classified.class::isInstance).map(c -> ((Classified) c).classification())
                .findFirst();
    }

    /** Whether the command was classified as accepted. */
    public boolean accepted() {
        return classification().orElse(null) == Classification.ACCEPTED;
    }

    /** The generation after these events: that of the last new generation among them, else {@code current}. */
    public long generationAfter(long current) {
        long g = current;
        for (CoordinatorEvent e : events) {
            if (e instanceof GenerationStarted s) {
                g = s.generation();
            }
        }
        return g;
    }

    private Decision with(List<CoordinatorEvent> moreEvents, List<Tell<?>> moreTells, Tell<?> newReply,
                          List<Count> moreCounts, List<Note> moreNotes) {
        return new Decision(concat(events, moreEvents), concat(tells, moreTells), newReply != null ? newReply : reply,
                concat(counts, moreCounts), concat(notes, moreNotes));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        if (b.isEmpty()) {
            return a;
        }
        List<T> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
