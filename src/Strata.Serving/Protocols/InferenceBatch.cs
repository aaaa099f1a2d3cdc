namespace Strata.Serving.Protocols;

/// <summary>A decoded infer request: its id (echoed back), one input vector per row and the outputs asked for.</summary>
public sealed record InferenceBatch(string? Id, double[][] Rows, IReadOnlyList<string> Outputs);
