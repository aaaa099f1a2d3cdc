using Microsoft.AspNetCore.Http;

namespace Strata.Serving.Protocols;

/// <summary>The KServe protocols' own error shape: <c>{"error": "..."}</c> with 400 (bad request) or 404 (unknown model
/// or version); a model that is known but not loaded yet is a 503 in the same shape.</summary>
public sealed class ProtocolException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    public static ProtocolException BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    public static ProtocolException NotFound(string message) => new(StatusCodes.Status404NotFound, message);

    public IResult ToResult() => Results.Json(new ErrorBody(Message), statusCode: Status);

    /// <summary>Runs a protocol handler, answering every failure it can have in the protocol's error shape.</summary>
    public static async Task<IResult> AnswerAsync(Func<Task<IResult>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        try
        {
            return await handler();
        }
        catch (ProtocolException e)
        {
            return e.ToResult();
        }
        catch (Strata.Contracts.Errors.InputValidationException e)
        {
            return BadRequest(Describe(e)).ToResult();
        }
        catch (BadHttpRequestException e)
        {
            return new ProtocolException(e.StatusCode, e.Message).ToResult();
        }
        catch (Strata.Contracts.Errors.ResourceNotFoundException e)
        {
            return NotFound(e.Message).ToResult(); // e.g. an entity the feature store has no features for
        }
    }

    /// <summary>A rejected input in the protocols' words (<c>input 'age' must be &gt; 0 (row 0)</c>); a rejection of the
    /// request as a whole (model, outputs, inputs together) is its reason alone.</summary>
    public static string Describe(Strata.Contracts.Errors.InputValidationException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.Field is "model" or "outputs" or "inputs" or "instances" or "body" ? e.Reason : $"input '{e.Field}' {e.Reason}";
    }

    /// <summary>The body of every protocol error.</summary>
    public sealed record ErrorBody(string Error);
}
