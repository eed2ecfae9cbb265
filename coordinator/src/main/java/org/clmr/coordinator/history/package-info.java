/**
 * A run's history, read from the coordinator's journal: {@link org.clmr.coordinator.history.HistoryReader} queries
 * the journal's events through Akka Persistence Query (in the coordinator's own actor system for
 * {@code GET /history}, or in a small local one on the database of a run directory for {@code clmr history}), never
 * by replaying or asking a live coordinator; {@link org.clmr.coordinator.history.Timeline} turns them into
 * {@link org.clmr.coordinator.history.HistoryEntry} lines, which a {@link org.clmr.coordinator.history.HistoryFilter}
 * selects. Depends on {@code journal}.
 */
package org.clmr.coordinator.history;
