using System.Text.Json.Serialization;

namespace Strata.Contracts.Serving;

/// <summary>The outcome of an earlier prediction (<c>POST /api/serving/feedback</c>): the <see cref="RequestId"/> its
/// answer carried in <c>X-Request-Id</c> and the <see cref="Row"/> of a batch (0 for a single prediction); a
/// <see cref="Label"/> (the class: 1 fraud, 0 not) and/or a <see cref="Value"/> (a measured number); when it happened
/// (<see cref="Time"/>, now if not given). It may come days later: the join is by id, never by time.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record PredictionFeedback
{
    public string? RequestId { get; init; }

    public int? Row { get; init; }

    public double? Label { get; init; }

    public double? Value { get; init; }

    public DateTimeOffset? Time { get; init; }
}

/// <summary>The answer to a feedback post: how many outcomes were recorded (published as <c>prediction.feedback</c>).</summary>
public sealed record FeedbackAccepted(int Accepted);
