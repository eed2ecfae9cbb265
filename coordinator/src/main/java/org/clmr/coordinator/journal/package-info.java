/**
 * What the coordinator's journal holds: the events ({@link org.clmr.coordinator.journal.CoordinatorEvent}), the
 * state they fold into, one type per phase ({@link org.clmr.coordinator.journal.CoordinatorState}, with the run's
 * {@link org.clmr.coordinator.journal.RunData}), and the values inside them. Everything here is persisted, so
 * class names, {@code type}/{@code phase} names and field names are part of the stored format; the event
 * handler is pure. Depends on nothing else in the coordinator.
 */
package org.clmr.coordinator.journal;
