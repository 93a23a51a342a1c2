/** What a planned change asks before it is applied (the command asks it on a terminal, or refuses). */

export interface Question {
  /** The question, answered yes or no: "Revoke 2 entries?". */
  text: string;
  /** What a refusal without a terminal says instead of the question, when the question alone would not say why. */
  refusal?: {message: string; hint: string};
}
