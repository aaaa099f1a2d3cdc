using System.Globalization;
using Strata.Contracts.Errors;
using Strata.Serving.Models;

namespace Strata.Serving.Protocols;

/// <summary>Scores rows of request inputs with a loaded model (features through its compiled view, then the model);
/// a row the view rejects is a protocol 400 naming the row and the input.</summary>
public static class BatchScorer
{
    public static double[] Score(LoadedModel model, IReadOnlyList<double[]> rows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(rows);
        var scores = new double[rows.Count];
        for (var r = 0; r < rows.Count; r++)
        {
            try
            {
                scores[r] = model.Score(model.Features.Compute(rows[r]));
            }
            catch (InputValidationException e)
            {
                throw ProtocolException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"input '{e.Field}' {e.Reason} (row {r})"));
            }
        }
        return scores;
    }
}
