namespace Strata.Contracts.Events;

/// <summary>Data of <c>prediction.feedback</c>: the outcome of an earlier prediction, joined to it by
/// <see cref="RequestId"/> and <see cref="Row"/> (never by time: a label may come days later). <see cref="Label"/> is a
/// class (0 or 1 for a binary model), <see cref="Value"/> a measured number (a regression's truth, an order's amount);
/// at least one is given. <see cref="Time"/> is when the outcome happened (when it was recorded, if not given). A later
/// outcome for the same prediction replaces the earlier (a corrected label).</summary>
public sealed record PredictionFeedbackEvent(string RequestId, int Row, double? Label, double? Value, DateTimeOffset Time, string? Source = null);
