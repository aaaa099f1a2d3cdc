namespace Strata.Serving.Models;

/// <summary>A tensor in a model's signature: name, Open Inference Protocol datatype and shape (-1 for a variable dimension).</summary>
public sealed record TensorMetadata(string Name, string Datatype, IReadOnlyList<long> Shape)
{
    /// <summary>Elements per row (the product of the dimensions after the first); null when one of them is variable.</summary>
    public long? RowElements
    {
        get
        {
            long n = 1;
            for (var i = 1; i < Shape.Count; i++)
            {
                if (Shape[i] < 0)
                {
                    return null;
                }
                n *= Shape[i];
            }
            return n;
        }
    }
}
