/**
 * What every desk of the coordinator shares. A desk (admission, the peer-timeout jury, draining, plan boundaries,
 * checkpoints) takes the state and a command and returns a {@link org.clmr.coordinator.desk.Decision}: events to
 * persist, then messages to send, counts and log lines; never an Akka effect. Also here: how a message that may
 * arrive late or twice is {@link org.clmr.coordinator.desk.Classification classified}, and the
 * {@link org.clmr.coordinator.desk.TolerancePolicy}. Depends only on {@code journal}.
 */
package org.clmr.coordinator.desk;
