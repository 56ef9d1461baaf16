//! The copy step of a restore (`copy:`): `StartCopyJob` in the source
//! account after a journaled intent, the job id journaled at once, then
//! `DescribeCopyJob` polled adaptively until the copy's recovery point
//! exists, which is journaled and restored. A resumed run never starts a
//! second copy: a journaled job is polled again, and a copy whose start was
//! never journaled is found by sending the same idempotency token, for
//! which AWS Backup answers with the job it already started.

use super::*;
use crate::exec::spec::copy_token;

impl Executor<'_> {
    /// Runs restore `i`'s copy step to completion: `Ok` with the copy's
    /// recovery point ARN, otherwise how the restore ended.
    pub(super) async fn copy(
        &self,
        ctx: &Ctx<'_>,
        i: usize,
    ) -> Result<Result<String, Done>, ExecError> {
        let spec = &ctx.input.specs[i];
        let Some(copy) = &spec.copy else {
            return self
                .fail(ctx, i, "the restore has no copy step".to_owned())
                .map(Err);
        };
        if let Some(arn) = &ctx.copy_points[i] {
            return Ok(Ok(arn.clone()));
        }
        let scope = &copy.scope;
        let (job_id, started_at) = match &ctx.copy_jobs[i] {
            Some(id) => {
                let at = ctx.started[i].unwrap_or_else(|| self.clock.now());
                self.events.emit(Event::CopyStarted {
                    index: i,
                    id: spec.id.clone(),
                    job_id: id.clone(),
                    source_recovery_point_arn: copy.request.recovery_point_arn.clone(),
                    estimated_seconds: copy.estimated_seconds,
                    at: self.clock.now(),
                });
                (id.clone(), at)
            }
            None => {
                if self.stop.is_stopped() {
                    return Ok(Err(Done::Interrupted));
                }
                let token = copy_token(ctx.input.run_id, &spec.id, ctx.attempts[i]);
                let request = copy.request.with_idempotency_token(&token);
                let at = self.clock.now();
                self.journal.append(&Record::CopyIntent {
                    index: i,
                    token,
                    at,
                })?;
                let started_at = ctx.started[i].unwrap_or(at);
                let id = match self
                    .call(ctx, i, "StartCopyJob", false, || {
                        self.cloud.start_copy(scope, &request)
                    })
                    .await
                {
                    Call::Ok(id) => id,
                    Call::Err(e) => {
                        // After retryable errors the request may have
                        // reached AWS Backup: the copy may be running, and
                        // a resume finds it by its token.
                        let cause = format!("StartCopyJob in {scope}: {e}");
                        return if e.is_retryable() || e.kind == ErrorKind::LimitExceeded {
                            self.fail_running(ctx, i, cause).map(Err)
                        } else {
                            self.fail(ctx, i, cause).map(Err)
                        };
                    }
                    Call::Interrupted => return Ok(Err(Done::Interrupted)),
                };
                let at = self.clock.now();
                self.journal.append(&Record::CopyStarted {
                    index: i,
                    job_id: id.clone(),
                    at,
                })?;
                self.events.emit(Event::CopyStarted {
                    index: i,
                    id: spec.id.clone(),
                    job_id: id.clone(),
                    source_recovery_point_arn: request.recovery_point_arn.clone(),
                    estimated_seconds: copy.estimated_seconds,
                    at,
                });
                (id, started_at)
            }
        };
        loop {
            let delay = self.opts.poll.next_delay(PollInput {
                elapsed: seconds_between(started_at, self.clock.now()),
                estimate: copy.estimated_seconds,
                percent: None,
                expected_total: None,
            });
            if !self.sleep(delay).await {
                return Ok(Err(Done::Interrupted));
            }
            let job = called!(
                self.call(ctx, i, "DescribeCopyJob", false, || {
                    self.cloud.describe_copy_job(scope, &job_id)
                })
                .await,
                |e| self
                    .fail_running(ctx, i, format!("copy job {job_id}: {e}"))
                    .map(Err)
            );
            match job.status {
                JobStatus::Pending | JobStatus::Running => continue,
                JobStatus::Failed | JobStatus::Aborted => {
                    let msg = job
                        .status_message
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default();
                    return self
                        .fail(ctx, i, format!("copy job {job_id} failed{msg}"))
                        .map(Err);
                }
                JobStatus::Completed => {
                    let Some(arn) = job.destination_recovery_point_arn else {
                        return self
                            .fail(
                                ctx,
                                i,
                                format!(
                                    "copy job {job_id} completed without a destination recovery point"
                                ),
                            )
                            .map(Err);
                    };
                    let at = self.clock.now();
                    self.journal.append(&Record::CopyCompleted {
                        index: i,
                        job_id: job_id.clone(),
                        recovery_point_arn: arn.clone(),
                        at,
                    })?;
                    self.events.emit(Event::CopyCompleted {
                        index: i,
                        id: spec.id.clone(),
                        job_id: job_id.clone(),
                        recovery_point_arn: arn.clone(),
                        at,
                    });
                    return Ok(Ok(arn));
                }
            }
        }
    }
}
