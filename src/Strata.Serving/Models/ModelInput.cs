using Microsoft.ML.Data;

namespace Strata.Serving.Models;

/// <summary>The model's input row: the view's features as one float vector.</summary>
public sealed class ModelInput
{
    public float[] Features { get; set; } = [];

    public static SchemaDefinition Schema(int features)
    {
        var schema = SchemaDefinition.Create(typeof(ModelInput));
        schema[nameof(Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, features);
        return schema;
    }
}
