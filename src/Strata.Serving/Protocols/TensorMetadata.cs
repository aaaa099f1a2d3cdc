namespace Strata.Serving.Protocols;

/// <summary>A tensor in model metadata: name, datatype and shape (-1 for a variable dimension).</summary>
public sealed record TensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape);
