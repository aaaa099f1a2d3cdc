using Microsoft.ML.Data;

namespace Strata.Serving.Models;

/// <summary>The model's input row, as Strata's training lays it out: the numeric features as the float vector
/// <c>Features</c> and the categorical ones (category codes, one-hot encoded by the pipeline) as <c>Categories</c>.</summary>
public sealed class ModelInput
{
    public float[] Features { get; set; } = [];

    public float[] Categories { get; set; } = [];

    /// <summary>The row's schema: each vector's size; a vector with no feature is not a column.</summary>
    public static SchemaDefinition Schema(int numeric, int categorical)
    {
        var schema = SchemaDefinition.Create(typeof(ModelInput));
        foreach (var (column, size) in new[] { (nameof(Features), numeric), (nameof(Categories), categorical) })
        {
            if (size == 0)
            {
                schema.Remove(schema[column]);
            }
            else
            {
                schema[column].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
            }
        }
        return schema;
    }
}
